import Foundation

/// `data check`: every defect of a data file in ktrdr's CSV shape, not only the first one the
/// strict loader stops at. Rows are read leniently (a row that cannot be read is itself a
/// finding), then checked: order, duplicates, prices, OHLC consistency, and gaps against the
/// timeframe, each gap classed by the calendar (weekend, overnight, holiday, or unexplained).
public struct DataAudit: Sendable, Codable, Equatable {
    /// One finding: where (1-based line of the file) and what.
    public struct Finding: Sendable, Codable, Equatable {
        public var line: Int
        public var message: String
        public init(line: Int, message: String) { self.line = line; self.message = message }
    }

    /// One kind of finding: how many, and the first few.
    public struct Findings: Sendable, Codable, Equatable {
        public var count = 0
        public var first: [Finding] = []
        mutating func add(_ line: Int, _ message: String) {
            count += 1
            if first.count < 10 { first.append(Finding(line: line, message: message)) }
        }
    }

    /// Gaps of one calendar class: how many and how many bars they miss.
    public struct GapClass: Sendable, Codable, Equatable {
        public var gaps = 0
        public var missingBars = 0
        public init(gaps: Int = 0, missingBars: Int = 0) { self.gaps = gaps; self.missingBars = missingBars }
    }

    /// A gap between two consecutive bars longer than one bar.
    public struct Gap: Sendable, Codable, Equatable {
        public var line: Int
        public var from: String
        public var to: String
        public var missingBars: Int
        public var kind: String
    }

    public var rows = 0
    public var first: String?
    public var last: String?
    public var timeframe: String?
    public var unreadable = Findings()
    public var outOfOrder = Findings()
    public var duplicates = Findings()
    public var nonPositivePrices = Findings()
    public var ohlcInconsistent = Findings()
    /// Gaps by class: `weekend`, `overnight`, `holiday`, `unexplained`.
    public var gaps: [String: GapClass] = [:]
    public var largestGaps: [Gap] = []
    public var barsPerYear: Double?
    public var warnings: [String] = []

    /// Defects make a file unusable as it is (gaps are reported, not defects).
    public var defects: Int { unreadable.count + outOfOrder.count + duplicates.count + nonPositivePrices.count + ohlcInconsistent.count }

    /// Audits `text` (a whole CSV file with a header naming timestamp, open, high, low, close
    /// and volume). `timeframe` sets the expected spacing of the bars.
    public static func run(text: String, timeframe: Timeframe?) -> DataAudit {
        var audit = DataAudit()
        audit.timeframe = timeframe?.rawValue
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
        if lines.last?.isEmpty == true { lines.removeLast() }
        guard let header = lines.first else {
            audit.unreadable.add(1, "empty file: expected a header naming timestamp, open, high, low, close, volume")
            return audit
        }
        let names = header.split(separator: ",").map { $0.trimmingCharacters(in: " \u{FEFF}\"").lowercased() }
        let wanted = ["timestamp", "open", "high", "low", "close", "volume"]
        let index = wanted.map { w in names.firstIndex(of: w) ?? (w == "timestamp" ? names.firstIndex { ["time", "date", "datetime"].contains($0) } : nil) }
        let missing = zip(wanted, index).filter { $0.1 == nil }.map(\.0)
        guard missing.isEmpty else {
            audit.unreadable.add(1, "header '\(header.prefix(200))' lacks \(missing.joined(separator: ", ")): expected timestamp,open,high,low,close,volume (ktrdrctl data import converts other shapes)")
            return audit
        }
        var times = [Int64](), lineOf = [Int]()
        times.reserveCapacity(lines.count)
        for (k, raw) in lines.enumerated().dropFirst() where !raw.allSatisfy({ $0 == " " }) {
            let line = k + 1
            let fields = raw.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count >= names.count else {
                audit.unreadable.add(line, "\(fields.count) fields, expected \(names.count)")
                continue
            }
            guard let t = UTCTime.parse(Array(fields[index[0]!].trimmingCharacters(in: " \"").utf8)) else {
                audit.unreadable.add(line, "timestamp '\(fields[index[0]!].prefix(40))': expected ISO-8601 UTC such as 2024-01-02T15:30:00Z")
                continue
            }
            var values = [Double]()
            for (c, name) in zip(index.dropFirst(), wanted.dropFirst()) {
                let text = fields[c!].trimmingCharacters(in: " \"")
                guard let v = Double(text), v.isFinite else {
                    audit.unreadable.add(line, "\(name) '\(text.prefix(40))': expected a finite number")
                    break
                }
                values.append(v)
            }
            guard values.count == 5 else { continue }
            audit.rows += 1
            let (o, h, l, c, v) = (values[0], values[1], values[2], values[3], values[4])
            for (name, p) in [("open", o), ("high", h), ("low", l), ("close", c)] where p <= 0 {
                audit.nonPositivePrices.add(line, "\(name) \(p): prices must be above 0")
            }
            if v < 0 { audit.nonPositivePrices.add(line, "volume \(v): must not be negative") }
            if h < l {
                audit.ohlcInconsistent.add(line, "high \(h) below low \(l)")
            } else if h < max(o, c) || l > min(o, c) {
                audit.ohlcInconsistent.add(line, "open \(o) / close \(c) outside low \(l) … high \(h)")
            }
            if let previous = times.last {
                if t == previous {
                    audit.duplicates.add(line, "\(UTCTime.iso(t)) repeats line \(lineOf.last!)")
                    continue
                }
                if t < previous { audit.outOfOrder.add(line, "\(UTCTime.iso(t)) after \(UTCTime.iso(previous)) (line \(lineOf.last!))") }
            }
            times.append(t)
            lineOf.append(line)
        }
        audit.first = times.min().map(UTCTime.iso)
        audit.last = times.max().map(UTCTime.iso)
        guard times.count >= 2 else { return audit }
        let sorted = audit.outOfOrder.count == 0 ? times : times.sorted()
        audit.barsPerYear = Metrics.barsPerYear(sorted[...], nominal: timeframe?.barsPerYear ?? 0)
        if let timeframe {
            if let warning = Metrics.timeframeWarning(sorted[...], timeframe: timeframe, barsPerYear: audit.barsPerYear ?? 0) {
                audit.warnings.append(warning)
            }
            if audit.outOfOrder.count == 0, timeframe != .mo1 { audit.findGaps(times, lines: lineOf, step: timeframe.seconds) }
        }
        return audit
    }

    private mutating func findGaps(_ times: [Int64], lines: [Int], step: Int64) {
        var all = [Gap]()
        for k in 1..<times.count {
            let delta = times[k] - times[k - 1]
            guard delta > step else { continue }
            let missing = Int(delta / step) - (delta % step == 0 ? 1 : 0)
            guard missing > 0 else { continue }
            let kind = Self.classify(from: times[k - 1], to: times[k], step: step)
            gaps[kind, default: GapClass()].gaps += 1
            gaps[kind, default: GapClass()].missingBars += missing
            all.append(Gap(line: lines[k], from: UTCTime.iso(times[k - 1]), to: UTCTime.iso(times[k]), missingBars: missing, kind: kind))
        }
        largestGaps = Array(all.sorted { ($0.missingBars, -$0.line) > ($1.missingBars, -$1.line) }.prefix(5))
    }

    /// The calendar's reason for the bars missing between `a` and `b` (exclusive): `weekend`
    /// when every missing bar falls on a Saturday or Sunday (UTC), or no weekday is missing
    /// whole and a weekend day lies between (markets that close Friday evening and open Sunday
    /// evening); `overnight` for intraday bars missing across one midnight with no whole day
    /// missing; `holiday` for one or two whole weekdays missing; anything else is `unexplained`.
    static func classify(from a: Int64, to b: Int64, step: Int64) -> String {
        let day: Int64 = 86_400
        func isWeekend(_ t: Int64) -> Bool { let w = ((t / day) % 7 + 4) % 7; return w == 0 || w == 6 }  // 1970-01-01 was a Thursday
        var t = a + step, onlyWeekend = true, seen = 0
        while t < b, seen < 10_000 {
            if !isWeekend(t) { onlyWeekend = false; break }
            t += step
            seen += 1
        }
        if onlyWeekend { return "weekend" }
        let firstDay = a / day, lastDay = b / day
        var weekdaysBetween = 0, weekendBetween = false
        var d = firstDay + 1
        while d < lastDay, d - firstDay < 400 {
            if isWeekend(d * day) { weekendBetween = true } else { weekdaysBetween += 1 }
            d += 1
        }
        if weekdaysBetween == 0 {
            if weekendBetween { return "weekend" }
            if step < day && lastDay == firstDay + 1 { return "overnight" }
        }
        return weekdaysBetween <= 2 && lastDay > firstDay ? "holiday" : "unexplained"
    }
}
