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
    /// Exits the engine places at entry (`trading.stop_loss`, `take_profit`, `trailing_stop`).
    public var stopLoss: ExitDistance?
    public var takeProfit: ExitDistance?
    public var trailingStop: ExitDistance?
    /// How many units an entry buys; nil is `positionSize` of the cash.
    public var sizing: Sizing?

    public init() {}

    /// Bars of history the ATR-based exits need before the first traded bar.
    public var exitWarmup: Int {
        [stopLoss, takeProfit, trailingStop].compactMap { $0?.atrPeriod }.max().map { $0 + 1 } ?? 0
    }

    /// Checks ranges; returns the problems found, each naming its field.
    public func problems() -> [String] {
        var out = [String]()
        if !(initialCapital > 0) || !initialCapital.isFinite { out.append("initial_capital must be > 0, got \(initialCapital)") }
        if !(0..<1).contains(commission) { out.append("commission must be in [0, 1), got \(commission)") }
        if !(0..<1).contains(slippage) { out.append("slippage must be in [0, 1), got \(slippage)") }
        if !(positionSize > 0 && positionSize <= 1) { out.append("position_size must be in (0, 1], got \(positionSize)") }
        if !(0...1).contains(confidenceThreshold) { out.append("confidence_threshold must be in [0, 1], got \(confidenceThreshold)") }
        if minSignalSeparation < 0 { out.append("min_signal_separation must be >= 0, got \(minSignalSeparation)") }
        for (name, exit) in [("stop_loss", stopLoss), ("take_profit", takeProfit), ("trailing_stop", trailingStop)] {
            if let problem = exit?.problem { out.append("trading.\(name): \(problem)") }
        }
        if case let .risk(r)? = sizing, stopLoss == nil {
            out.append("trading.sizing.risk (\(r)) needs trading.stop_loss: the risk is what the stop loses")
        }
        if let problem = sizing?.problem { out.append("trading.sizing: \(problem)") }
        return out
    }
}

/// How far from the entry fill an exit sits: a fraction of that price, or a multiple of the
/// ATR(period) of the bar before the entry (known when the entry was decided).
public enum ExitDistance: Sendable, Equatable, Codable {
    case fraction(Double)
    case atr(multiple: Double, period: Int)

    var atrPeriod: Int? { if case let .atr(_, p) = self { p } else { nil } }

    var problem: String? {
        switch self {
        case let .fraction(f): f > 0 && f < 10 ? nil : "a fraction must be in (0, 10), got \(f)"
        case let .atr(k, p): k > 0 && k <= 100 && (1...10_000).contains(p) ? nil : "atr must be in (0, 100] and period in 1…10000, got atr \(k), period \(p)"
        }
    }

    /// JSON: a number (fraction), or `{"atr": k, "period": n}`.
    public init(from decoder: any Decoder) throws {
        if let f = try? decoder.singleValueContainer().decode(Double.self) { self = .fraction(f); return }
        let c = try decoder.container(keyedBy: Key.self)
        self = .atr(multiple: try c.decode(Double.self, forKey: .atr), period: try c.decode(Int.self, forKey: .period))
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case let .fraction(f): var c = encoder.singleValueContainer(); try c.encode(f)
        case let .atr(k, p): var c = encoder.container(keyedBy: Key.self); try c.encode(k, forKey: .atr); try c.encode(p, forKey: .period)
        }
    }

    private enum Key: String, CodingKey { case atr, period }
}

/// Units per entry: a fraction of the cash (`position_size`), a fixed amount of cash, a fixed
/// number of units, or the units whose loss at the stop is `risk` of the cash. Never more than
/// the cash pays for.
public enum Sizing: Sendable, Equatable, Codable {
    case cash(Double)
    case units(Double)
    case risk(Double)

    var problem: String? {
        switch self {
        case let .cash(v): v > 0 && v.isFinite ? nil : "cash must be > 0, got \(v)"
        case let .units(v): v > 0 && v.isFinite ? nil : "units must be > 0, got \(v)"
        case let .risk(v): v > 0 && v < 1 ? nil : "risk must be in (0, 1), got \(v)"
        }
    }

    /// JSON: `{"cash": 10000}`, `{"units": 100}` or `{"risk": 0.01}`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        if let v = try c.decodeIfPresent(Double.self, forKey: .cash) { self = .cash(v) }
        else if let v = try c.decodeIfPresent(Double.self, forKey: .units) { self = .units(v) }
        else { self = .risk(try c.decode(Double.self, forKey: .risk)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        switch self {
        case let .cash(v): try c.encode(v, forKey: .cash)
        case let .units(v): try c.encode(v, forKey: .units)
        case let .risk(v): try c.encode(v, forKey: .risk)
        }
    }

    private enum Key: String, CodingKey { case cash, units, risk }
}

/// Why a trade closed.
public enum ExitReason: String, Sendable, Codable {
    case signal
    case endOfData = "end_of_data"
    case stopLoss = "stop_loss"
    case takeProfit = "take_profit"
    case trailingStop = "trailing_stop"

    /// The code the engine's loop records.
    init(code: UInt8) {
        switch code {
        case 0: self = .signal
        case 2: self = .stopLoss
        case 3: self = .takeProfit
        case 4: self = .trailingStop
        default: self = .endOfData
        }
    }
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
