/// A walk-forward window's length: a number of bars (`1000`), or a calendar span (`90min`,
/// `12h`, `30d`, `2w`, `6mo`, `1y`; months and years keep the day of the month, clamped to
/// the month's last day). JSON: an integer (bars) or a string.
public enum WindowLength: Sendable, Equatable, Codable, CustomStringConvertible {
    case bars(Int)
    case span(Int, CalendarUnit)

    /// Units of a calendar span, by suffix.
    public enum CalendarUnit: String, Sendable, CaseIterable {
        case minute = "min", hour = "h", day = "d", week = "w", month = "mo", year = "y"
    }

    /// `1000` (bars) or a number and a unit suffix.
    public static func parse(_ text: String, field: String) throws(KtrdrError) -> WindowLength {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        let suffix = String(text.dropFirst(digits.count))
        guard digits.first != "0", digits.count <= 9, let n = Int(digits), n >= 1 else {
            throw .invalidRequest("\(field): '\(text.prefix(40))' is not a window length: expected bars (1000) or a span "
                + "(\(CalendarUnit.allCases.map { "1\($0.rawValue)" }.joined(separator: ", ")))")
        }
        if suffix.isEmpty { return .bars(n) }
        guard let unit = CalendarUnit(rawValue: suffix) else {
            throw .invalidRequest("\(field): unknown unit '\(suffix.prefix(20))' in '\(text.prefix(40))': expected one of "
                + CalendarUnit.allCases.map(\.rawValue).joined(separator: ", ") + " (or a plain number of bars)")
        }
        return .span(n, unit)
    }

    public var description: String {
        switch self {
        case let .bars(n): "\(n) bars"
        case let .span(n, unit): "\(n)\(unit.rawValue)"
        }
    }

    /// A calendar offset: whole months (applied first, keeping the day of the month) and seconds.
    /// Boundaries are the start plus a total offset, so month arithmetic never drifts: six months
    /// then one is the same day as seven months, even from the 31st.
    public struct Offset: Sendable, Equatable {
        public var months: Int64 = 0
        public var seconds: Int64 = 0

        public static func + (a: Offset, b: Offset) -> Offset { Offset(months: a.months + b.months, seconds: a.seconds + b.seconds) }

        /// `t` moved by the offset (UTC).
        public func applied(to t: Int64) -> Int64 {
            guard months != 0 else { return t + seconds }
            let days = t >= 0 ? t / 86_400 : (t - 86_399) / 86_400
            let (y, m, d) = UTCTime.civil(days: days)
            let total = Int64(y) * 12 + Int64(m - 1) + months
            let year = Int(total >= 0 ? total / 12 : (total - 11) / 12), month = Int(total - Int64(year) * 12) + 1
            let day = min(d, UTCTime.daysInMonth(year, month))
            return UTCTime.days(year: year, month: month, day: day) * 86_400 + (t - days * 86_400) + seconds
        }
    }

    /// `k` times this span (zero for bars).
    public func offset(times k: Int = 1) -> Offset {
        guard case let .span(n, unit) = self else { return Offset() }
        let steps = Int64(n) * Int64(k)
        switch unit {
        case .minute: return Offset(seconds: steps * 60)
        case .hour: return Offset(seconds: steps * 3_600)
        case .day: return Offset(seconds: steps * 86_400)
        case .week: return Offset(seconds: steps * 604_800)
        case .month: return Offset(months: steps)
        case .year: return Offset(months: steps * 12)
        }
    }

    /// The time `k` spans after `t` (UTC); for bars, `t` unchanged.
    public func advance(_ t: Int64, times k: Int = 1) -> Int64 { offset(times: k).applied(to: t) }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let n = try? c.decode(Int.self) {
            guard n >= 1 else { throw DecodingError.dataCorruptedError(in: c, debugDescription: "a window of \(n) bars: at least 1") }
            self = .bars(n)
            return
        }
        let text = try c.decode(String.self)
        do { self = try Self.parse(text, field: c.codingPath.last?.stringValue ?? "window") } catch {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case let .bars(n): try c.encode(n)
        case .span: try c.encode(description)
        }
    }
}
