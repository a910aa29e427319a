/// A bar timeframe. Only the listed ones exist; anything else is rejected before
/// a path is built from it.
public enum Timeframe: String, Sendable, CaseIterable, Codable {
    case m1 = "1m", m5 = "5m", m15 = "15m", m30 = "30m", h1 = "1h", h4 = "4h", d1 = "1d", w1 = "1w"

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
        }
    }

    /// Bars per year used to annualise per-bar statistics. Daily and weekly bars follow
    /// the trading calendar (252 sessions); intraday bars assume a 24h market, which is
    /// what forex and crypto data (and our generated data) are.
    public var barsPerYear: Double {
        switch self {
        case .d1: 252
        case .w1: 52
        default: 365.25 * 86_400 / Double(seconds)
        }
    }
}
