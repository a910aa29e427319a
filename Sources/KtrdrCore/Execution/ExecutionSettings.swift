/// How decisions become orders and what they cost (DOMAIN.md §6).
public struct ExecutionSettings: Sendable, Equatable, Codable {
    public var initialCapital: Double = 100_000
    /// Fraction of traded value charged per side.
    public var commission: Double = 0.001
    /// Adverse fill: buys at `open*(1+s)`, sells at `open*(1-s)`.
    public var slippage: Double = 0.0005
    /// Fraction of current equity committed per entry.
    public var positionSize: Double = 0.25
    public var wholeUnits: Bool = true
    public var allowShort: Bool = false
    /// Signals below this confidence are HOLD.
    public var confidenceThreshold: Double = 0.6
    /// With position awareness, BUY while long and SELL while flat (long-only) are HOLD.
    public var positionAwareness: Bool = true
    /// Minimum bars between two executed signals.
    public var minSignalSeparation: Int = 4

    public init() {}

    /// Checks ranges; returns the problems found, each naming its field.
    public func problems() -> [String] {
        var out = [String]()
        if !(initialCapital > 0) || !initialCapital.isFinite { out.append("initial_capital must be > 0, got \(initialCapital)") }
        if !(0..<1).contains(commission) { out.append("commission must be in [0, 1), got \(commission)") }
        if !(0..<1).contains(slippage) { out.append("slippage must be in [0, 1), got \(slippage)") }
        if !(positionSize > 0 && positionSize <= 1) { out.append("position_size must be in (0, 1], got \(positionSize)") }
        if !(0...1).contains(confidenceThreshold) { out.append("confidence_threshold must be in [0, 1], got \(confidenceThreshold)") }
        if minSignalSeparation < 0 { out.append("min_signal_separation must be >= 0, got \(minSignalSeparation)") }
        return out
    }
}

/// Why a trade closed.
public enum ExitReason: String, Sendable, Codable {
    case signal
    case endOfData = "end_of_data"
}

/// A closed round trip. Prices are fill prices (slippage included); `commission` is both
/// sides; `netPnl = grossPnl - commission` (**Decision**: net of both commissions).
public struct Trade: Sendable, Equatable, Codable {
    public var tradeId: Int
    /// +1 long, -1 short.
    public var side: Int
    public var entryTime: Int64
    public var entryPrice: Double
    public var exitTime: Int64
    public var exitPrice: Double
    public var quantity: Double
    public var grossPnl: Double
    public var commission: Double
    public var slippageCost: Double
    public var netPnl: Double
    public var returnPct: Double
    public var barsHeld: Int
    public var exitReason: ExitReason
}
