import Foundation
import KtrdrCore

/// Shapes of bar files `data import` converts into ktrdr's CSV.
public enum DataFormat: String, CaseIterable, Sendable {
    /// Yahoo Finance downloads and yfinance `to_csv`: Date or Datetime, Open, High, Low, Close,
    /// Adj Close, Volume; `null` rows on days without prices.
    case yahoo
    /// Binance klines (data.binance.vision): open time in ms or µs since the epoch, open, high,
    /// low, close, volume, then six columns not used; with or without a header.
    case binance
    /// Any CSV with a header naming a time column and open, high, low, close (and volume).
    case generic
}

/// What an import did, written beside the data file (`{SYMBOL}_{tf}.import.json`).
public struct ImportRecord: Codable, Sendable, Equatable {
    public var source: String
    public var sourceSha256: String
    public var format: String
    /// The zone times without an offset were read in (dates alone are days, 00:00 UTC).
    public var timeZone: String
    /// ktrdr column → the source column it came from.
    public var columns: [String: String]
    public var unusedColumns: [String]
    public var rowsRead: Int
    public var rowsWritten: Int
    /// Rows left out and why (null prices, exact duplicates), the first 50.
    public var skipped: [DataAudit.Finding]
    public var skippedCount: Int
    public var reversed: Bool
    public var first: String?
    public var last: String?
    public var symbol: String
    public var timeframe: String
    public var importedAt: String
}

/// Converts a bar file of a known shape into ktrdr's CSV, checking every value on the way:
/// a defect is an error naming the file, the line and the column, and nothing is written.
public enum DataImport {
    struct Row { var time: Int64; var line: Int; var fields: [String] }

    public static func convert(text: String, file: String, format: DataFormat, timeZone: TimeZone?, symbol: String,
                               timeframe: Timeframe) throws(KtrdrError) -> (csv: String, record: ImportRecord) {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
        while lines.last?.trimmingCharacters(in: .whitespaces).isEmpty == true { lines.removeLast() }
        guard !lines.isEmpty else { throw .dataInvalid(file: file, line: 1, column: "", message: "empty file") }
        if lines[0].hasPrefix("\u{FEFF}") { lines[0].removeFirst() }
        if format == .binance, timeZone != nil {
            throw .invalidRequest("--tz: Binance open times are UTC epoch times; a time zone does not apply to them")
        }
        let split = { (line: String) in line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " \"")) } }
        let first = split(lines[0])
        let hasHeader = format != .binance || Double(first.first ?? "") == nil
        let header = hasHeader ? first : (0..<first.count).map { "column \($0 + 1)" }
        let mapping = try columns(header, format: format, file: file)
        let zone = timeZone ?? TimeZone(identifier: "UTC")!
        var rows = [Row](), skipped = [DataAudit.Finding](), skippedCount = 0
        func skip(_ line: Int, _ why: String) {
            skippedCount += 1
            if skipped.count < 50 { skipped.append(DataAudit.Finding(line: line, message: why)) }
        }
        for (k, raw) in lines.enumerated().dropFirst(hasHeader ? 1 : 0) where !raw.trimmingCharacters(in: .whitespaces).isEmpty {
            let line = k + 1
            let f = split(raw)
            guard f.count >= header.count else {
                throw .dataInvalid(file: file, line: line, column: "", message: "\(f.count) fields, expected \(header.count) as the header has")
            }
            let values = ["open", "high", "low", "close"].map { f[mapping[$0]!] }
            if format == .yahoo, values.contains(where: { $0.lowercased() == "null" }) {
                skip(line, "null prices (Yahoo writes them for days without trading)")
                continue
            }
            let time = try parseTime(f[mapping["timestamp"]!], zone: zone, file: file, line: line, column: header[mapping["timestamp"]!])
            var out = [String]()
            for (name, text) in zip(["open", "high", "low", "close"], values) {
                guard let v = Double(text), v.isFinite, v > 0 else {
                    throw .dataInvalid(file: file, line: line, column: header[mapping[name]!], message: "'\(text.prefix(40))': expected a price above 0")
                }
                out.append(text)
            }
            let volume = mapping["volume"].map { f[$0] } ?? "0"
            guard let vol = Double(volume), vol.isFinite, vol >= 0 else {
                throw .dataInvalid(file: file, line: line, column: mapping["volume"].map { header[$0] } ?? "volume", message: "'\(volume.prefix(40))': expected a volume of 0 or more")
            }
            let (o, h, l, c) = (Double(out[0])!, Double(out[1])!, Double(out[2])!, Double(out[3])!)
            guard h >= l, h >= max(o, c), l <= min(o, c) else {
                throw .dataInvalid(file: file, line: line, column: header[mapping["high"]!], message: "open \(out[0]), high \(out[1]), low \(out[2]), close \(out[3]): expected low <= open, close <= high")
            }
            rows.append(Row(time: time, line: line, fields: out + [volume]))
        }
        let rowsRead = rows.count + skippedCount
        var reversed = false
        if rows.count > 1, zip(rows, rows.dropFirst()).allSatisfy({ $0.time > $1.time }) {
            rows.reverse()
            reversed = true
        }
        var kept = [Row]()
        kept.reserveCapacity(rows.count)
        for row in rows {
            if let previous = kept.last {
                if row.time == previous.time {
                    guard row.fields == previous.fields else {
                        throw .dataInvalid(file: file, line: row.line, column: header[mapping["timestamp"]!],
                                           message: "\(UTCTime.iso(row.time)) again (line \(previous.line)) with other prices")
                    }
                    skip(row.line, "exact duplicate of line \(previous.line)")
                    continue
                }
                guard row.time > previous.time else {
                    throw .dataInvalid(file: file, line: row.line, column: header[mapping["timestamp"]!],
                                       message: "\(UTCTime.iso(row.time)) comes after \(UTCTime.iso(previous.time)) (line \(previous.line)): expected times in order")
                }
            }
            kept.append(row)
        }
        guard !kept.isEmpty else { throw .dataInvalid(file: file, line: lines.count, column: "", message: "no bars with prices") }
        var csv = "timestamp,open,high,low,close,volume\n"
        csv.reserveCapacity(kept.count * 64)
        for row in kept { csv += UTCTime.iso(row.time) + "," + row.fields.joined(separator: ",") + "\n" }
        let used = Set(mapping.values)
        var columns = mapping.mapValues { header[$0] }
        if mapping["volume"] == nil { columns["volume"] = "(none: written as 0)" }
        let record = ImportRecord(source: file, sourceSha256: "", format: format.rawValue,
                                  timeZone: format == .binance ? "UTC (epoch times)" : zone.identifier, columns: columns,
                                  unusedColumns: header.indices.filter { !used.contains($0) }.map { header[$0] }, rowsRead: rowsRead,
                                  rowsWritten: kept.count, skipped: skipped, skippedCount: skippedCount, reversed: reversed,
                                  first: UTCTime.iso(kept[0].time), last: UTCTime.iso(kept[kept.count - 1].time), symbol: symbol,
                                  timeframe: timeframe.rawValue, importedAt: UTCTime.iso(Int64(Date().timeIntervalSince1970)))
        return (csv, record)
    }

    /// Column index of each ktrdr column in `header`, by the format's names.
    static func columns(_ header: [String], format: DataFormat, file: String) throws(KtrdrError) -> [String: Int] {
        if format == .binance {
            guard header.count >= 6 else {
                throw .dataInvalid(file: file, line: 1, column: "", message: "\(header.count) columns: expected Binance klines (open time, open, high, low, close, volume, …)")
            }
            return ["timestamp": 0, "open": 1, "high": 2, "low": 3, "close": 4, "volume": 5]
        }
        let lower = header.map { $0.lowercased() }
        let names: [String: [String]] = format == .yahoo
            ? ["timestamp": ["date", "datetime"], "open": ["open"], "high": ["high"], "low": ["low"], "close": ["close"], "volume": ["volume"]]
            : ["timestamp": ["timestamp", "time", "date", "datetime", "open_time", "opentime", "ts", "unix"], "open": ["open", "o"],
               "high": ["high", "h"], "low": ["low", "l"], "close": ["close", "c", "last"], "volume": ["volume", "vol", "v"]]
        var out = [String: Int]()
        for (role, candidates) in names {
            if let i = candidates.lazy.compactMap({ lower.firstIndex(of: $0) }).first { out[role] = i }
        }
        let missing = ["timestamp", "open", "high", "low", "close"].filter { out[$0] == nil } + (format == .yahoo && out["volume"] == nil ? ["volume"] : [])
        guard missing.isEmpty else {
            let expected = missing.map { "\($0) (\(names[$0]!.joined(separator: " or ")))" }.joined(separator: ", ")
            throw .dataInvalid(file: file, line: 1, column: "", message: "header '\(header.joined(separator: ",").prefix(200))' has no column for \(expected) as \(format.rawValue) files have")
        }
        return out
    }

    /// A time: epoch seconds, ms or µs (by magnitude), or a date and time. An offset (`Z`,
    /// `+05:30`) is used as given; a time without one is in `zone` (a local time the zone skips
    /// or repeats is an error); a date alone is that day at 00:00 UTC.
    public static func parseTime(_ text: String, zone: TimeZone, file: String, line: Int, column: String) throws(KtrdrError) -> Int64 {
        func bad(_ why: String) -> KtrdrError { .dataInvalid(file: file, line: line, column: column, message: "'\(text.prefix(40))': \(why)") }
        if let n = Int64(text) {
            switch n {
            case 100_000_000_000_000...: return n / 1_000_000  // µs
            case 100_000_000_000...: return n / 1_000  // ms
            case 0...: return n
            default: throw bad("a negative epoch time")
            }
        }
        var body = Substring(text), offset: Int64?
        if body.hasSuffix("Z") { body = body.dropLast(); offset = 0 }
        if offset == nil, body.count > 10, let sign = body.dropFirst(10).lastIndex(where: { $0 == "+" || $0 == "-" }) {
            let tail = body[body.index(after: sign)...].split(separator: ":")
            if let hh = tail.first.flatMap({ Int64($0) }), tail.count <= 2, let mm = tail.count == 2 ? Int64(tail[1]) : 0, hh <= 14, mm < 60 {
                offset = (body[sign] == "-" ? -1 : 1) * (hh * 3600 + mm * 60)
                body = body[..<sign]
            }
        }
        guard let local = UTCTime.parse(Array(body.utf8)) else {
            throw bad("expected an epoch time or a date and time such as 2024-01-02 09:30:00, 2024-01-02T09:30:00-05:00 or 2024-01-02")
        }
        if let offset { return local - offset }
        if body.count <= 10 { return local }  // a date: the day, 00:00 UTC
        // Local wall time in `zone`: every offset the zone has near it that maps back to it.
        let around = [-86_400, 0, 86_400].map { Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(local + $0)))) }
        let candidates = Set(around).filter { o in Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(local - o)))) == o }
        guard candidates.count == 1, let o = candidates.first else {
            throw bad(candidates.isEmpty ? "this local time does not exist in \(zone.identifier) (clocks jump over it)"
                                         : "this local time happens twice in \(zone.identifier) (clocks fall back); give times with an offset")
        }
        return local - o
    }
}
