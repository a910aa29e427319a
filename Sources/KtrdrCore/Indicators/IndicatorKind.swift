/// A parameter an indicator accepts, with its default and valid range.
public struct IndicatorParameter: Sendable {
    public let name: String
    public let defaultValue: Double
    public let isInteger: Bool
    public let minimum: Double
    public let maximum: Double
}

/// The indicators a strategy may name (DOMAIN.md §3), with the original system's
/// parameter names and defaults.
public enum IndicatorKind: String, Sendable, CaseIterable {
    case rsi = "RSI", sma = "SMA", ema = "EMA", macd = "MACD", bollingerBands = "BollingerBands", atr = "ATR"
    case stochastic = "Stochastic", williamsR = "WilliamsR", cci = "CCI", roc = "ROC", momentum = "Momentum"
    case obv = "OBV", adx = "ADX", mfi = "MFI", vwap = "VWAP", donchianChannels = "DonchianChannels"
    case keltnerChannels = "KeltnerChannels", parabolicSAR = "ParabolicSAR"

    /// Accepts the canonical name and common spellings (`rsi`, `bollinger_bands`, `bbands`, `psar`…).
    public init?(name: String) {
        let key = name.lowercased().filter { $0 != "_" && $0 != "-" && $0 != " " }
        let aliases: [String: IndicatorKind] = [
            "bbands": .bollingerBands, "bollinger": .bollingerBands, "stoch": .stochastic, "willr": .williamsR,
            "williams": .williamsR, "mom": .momentum, "donchian": .donchianChannels, "keltner": .keltnerChannels,
            "sar": .parabolicSAR, "psar": .parabolicSAR,
        ]
        if let kind = IndicatorKind.allCases.first(where: { $0.rawValue.lowercased() == key }) ?? aliases[key] {
            self = kind
        } else {
            return nil
        }
    }

    private static func int(_ name: String, _ value: Int, min: Int = 1, max: Int = 10_000) -> IndicatorParameter {
        IndicatorParameter(name: name, defaultValue: Double(value), isInteger: true, minimum: Double(min), maximum: Double(max))
    }

    private static func real(_ name: String, _ value: Double, min: Double, max: Double) -> IndicatorParameter {
        IndicatorParameter(name: name, defaultValue: value, isInteger: false, minimum: min, maximum: max)
    }

    public var parameters: [IndicatorParameter] {
        switch self {
        case .rsi, .atr, .williamsR, .adx, .mfi: [Self.int("period", 14, min: self == .adx ? 2 : 1)]
        case .sma, .ema, .cci, .vwap, .donchianChannels: [Self.int("period", 20)]
        case .roc, .momentum: [Self.int("period", 10)]
        case .macd: [Self.int("fast_period", 12), Self.int("slow_period", 26), Self.int("signal_period", 9)]
        case .bollingerBands: [Self.int("period", 20), Self.real("multiplier", 2.0, min: 0, max: 100)]
        case .stochastic: [Self.int("k_period", 14), Self.int("d_period", 3), Self.int("smooth_k", 3)]
        case .obv: []
        case .keltnerChannels: [Self.int("period", 20), Self.int("atr_period", 10), Self.real("multiplier", 2.0, min: 0, max: 100)]
        case .parabolicSAR:
            [Self.real("initial_af", 0.02, min: 0, max: 1), Self.real("step_af", 0.02, min: 0, max: 1),
             Self.real("max_af", 0.2, min: 0, max: 1)]
        }
    }

    /// Whether the indicator reads one price column chosen by `source:` (default `close`).
    public var usesSource: Bool {
        switch self {
        case .rsi, .sma, .ema, .macd, .bollingerBands, .roc, .momentum: true
        default: false
        }
    }

    /// Output suffixes; a single-output indicator has one empty suffix and is named by its feature_id.
    public var outputs: [String] {
        switch self {
        case .macd: ["macd", "signal", "histogram"]
        case .bollingerBands, .donchianChannels, .keltnerChannels: ["upper", "middle", "lower"]
        case .stochastic: ["k", "d"]
        default: [""]
        }
    }

    /// Index of the first defined value (bars of warm-up), given parameters.
    public func lookback(_ p: [String: Double]) -> Int {
        func i(_ name: String) -> Int { Int(p[name] ?? 0) }
        switch self {
        case .rsi, .atr, .roc, .momentum, .mfi: return i("period")
        case .sma, .ema, .williamsR, .cci, .vwap, .donchianChannels, .bollingerBands: return i("period") - 1
        case .macd: return max(i("fast_period"), i("slow_period")) - 1 + i("signal_period") - 1
        case .stochastic: return i("k_period") - 1 + i("smooth_k") - 1 + i("d_period") - 1
        case .obv: return 0
        case .adx: return 2 * i("period") - 1
        case .keltnerChannels: return max(i("period") - 1, i("atr_period"))
        case .parabolicSAR: return 1
        }
    }

    /// Computes every output over the whole series. `p` holds every parameter (defaults filled in).
    public func compute(_ bars: Bars, source: [Double], _ p: [String: Double]) -> [[Double]] {
        func i(_ name: String) -> Int { Int(p[name]!) }
        let h = bars.high, l = bars.low, c = bars.close, v = bars.volume
        switch self {
        case .rsi: return [TA.rsi(source, period: i("period"))]
        case .sma: return [TA.sma(source, period: i("period"))]
        case .ema: return [TA.ema(source, period: i("period"))]
        case .macd:
            let m = TA.macd(source, fast: i("fast_period"), slow: i("slow_period"), signal: i("signal_period"))
            return [m.line, m.signal, m.histogram]
        case .bollingerBands:
            let b = TA.bollinger(source, period: i("period"), multiplier: p["multiplier"]!)
            return [b.upper, b.middle, b.lower]
        case .atr: return [TA.atr(h: h, l: l, c: c, period: i("period"))]
        case .stochastic:
            let s = TA.stochastic(h: h, l: l, c: c, kPeriod: i("k_period"), smoothK: i("smooth_k"), dPeriod: i("d_period"))
            return [s.k, s.d]
        case .williamsR: return [TA.williamsR(h: h, l: l, c: c, period: i("period"))]
        case .cci: return [TA.cci(h: h, l: l, c: c, period: i("period"))]
        case .roc: return [TA.roc(source, period: i("period"))]
        case .momentum: return [TA.momentum(source, period: i("period"))]
        case .obv: return [TA.obv(c: c, v: v)]
        case .adx: return [TA.adx(h: h, l: l, c: c, period: i("period"))]
        case .mfi: return [TA.mfi(h: h, l: l, c: c, v: v, period: i("period"))]
        case .vwap: return [TA.vwap(h: h, l: l, c: c, v: v, period: i("period"))]
        case .donchianChannels:
            let d = TA.donchian(h: h, l: l, period: i("period"))
            return [d.upper, d.middle, d.lower]
        case .keltnerChannels:
            let k = TA.keltner(h: h, l: l, c: c, period: i("period"), atrPeriod: i("atr_period"), multiplier: p["multiplier"]!)
            return [k.upper, k.middle, k.lower]
        case .parabolicSAR:
            return [TA.parabolicSAR(h: h, l: l, initial: p["initial_af"]!, step: p["step_af"]!, maximum: p["max_af"]!)]
        }
    }
}

/// One configured indicator of a strategy: kind, feature_id, parameters and source column.
public struct IndicatorSpec: Sendable, Equatable {
    public let kind: IndicatorKind
    public let featureId: String
    public let parameters: [String: Double]
    public let source: String

    public init(kind: IndicatorKind, featureId: String, parameters: [String: Double] = [:], source: String = "close") {
        self.kind = kind
        self.featureId = featureId
        var full = parameters
        for p in kind.parameters where full[p.name] == nil { full[p.name] = p.defaultValue }
        self.parameters = full
        self.source = source
    }

    /// Output column names: `feature_id`, or `{feature_id}_{output}` for multi-output indicators.
    public var outputNames: [String] {
        kind.outputs.map { $0.isEmpty ? featureId : "\(featureId)_\($0)" }
    }

    /// Bars needed before the first defined value.
    public var lookback: Int { kind.lookback(parameters) }

    /// Computes all outputs over the whole series, named.
    public func compute(_ bars: Bars) -> [(name: String, values: [Double])] {
        let values = kind.compute(bars, source: bars.column(source) ?? bars.close, parameters)
        return Array(Swift.zip(outputNames, values)).map { (name: $0.0, values: $0.1) }
    }
}
