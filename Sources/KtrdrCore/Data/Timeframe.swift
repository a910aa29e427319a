/// A bar timeframe. Only the listed ones exist; anything else is rejected before
/// a path is built from it.
public enum Timeframe: String, Sendable, CaseIterable, Codable {
    case m1 = "1m", m5 = "5m", m15 = "15m", m30 = "30m", h1 = "1h", h4 = "4h", d1 = "1d", w1 = "1w"
    /// Calendar months (`1M`, as the exchanges write it; `1m` is a minute).
    case mo1 = "1M"

    /// Bar length in seconds.
    public var seconds: Int64 {
        switch self {
        case .m1: 60
        case .m5: 300
        case .m15: 900
        case .m30: 1800
        case .h1: 3600
        case .h4: 14_400
        case .d1: 86_400
        case .w1: 604_800
        case .mo1: 2_629_746  // the mean Gregorian month
        }
    }

    /// The label's nominal bars per year (daily and weekly bars on the trading calendar,
    /// intraday bars on a 24h market). Statistics use the count measured from the bars
    /// (`Metrics.barsPerYear`); this is its fallback when the bars span no time.
    public var barsPerYear: Double {
        switch self {
        case .d1: 252
        case .w1: 52
        case .mo1: 12
        default: 365.25 * 86_400 / Double(seconds)
        }
    }
}
