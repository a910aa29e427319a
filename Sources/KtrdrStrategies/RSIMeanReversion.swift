import KtrdrCore

/// `rsi_mean_reversion`: BUY when TA-Lib RSI crosses up through `oversold` (the market
/// turns up from an oversold extreme), SELL when it crosses down through `overbought`.
/// Confidence grows with the distance of the previous bar's RSI beyond the threshold,
/// `min(1, 0.5 + depth/20)`, so a `confidence_threshold` can demand deeper extremes.
public struct RSIMeanReversion: SignalStrategy {
    public let period: Int
    public let oversold: Double
    public let overbought: Double

    public init(period: Int = 14, oversold: Double = 30, overbought: Double = 70) {
        self.period = period
        self.oversold = oversold
        self.overbought = overbought
    }

    public static let pluginName = "rsi_mean_reversion"
    public static let defaults: [String: Double] = ["period": 14, "oversold": 30, "overbought": 70]

    /// From a strategy file's `params`, checked: whole period >= 1, 0 < oversold < overbought < 100.
    public init(config: StrategyConfig, file: String) throws(KtrdrError) {
        let p = try config.parameters(defaults: Self.defaults, file: file)
        var issues = [ValidationIssue]()
        let period = StrategyCatalog.count(p, "period", &issues)
        let low = p["oversold"]!, high = p["overbought"]!
        if !(0 < low && low < high && high < 100) {
            issues.append(ValidationIssue(path: "params", message: "need 0 < oversold < overbought < 100, got oversold \(low), overbought \(high)"))
        }
        guard issues.isEmpty else { throw .strategyInvalid(file: file, issues: issues) }
        self.init(period: period, oversold: low, overbought: high)
    }

    public var name: String { Self.pluginName }
    public var warmupBars: Int { period + 1 }

    public func computeSignals(bars: BarColumns, signal: UnsafeMutableBufferPointer<Int8>,
                               confidence: UnsafeMutableBufferPointer<Double>) throws(KtrdrError) {
        let rsi = TA.rsi(Array(bars.close), period: period)
        rsi.withUnsafeBufferPointer { crossings($0, signal: signal, confidence: confidence) }
    }

    /// With shared series: the same TA-Lib RSI column, computed once for every trial of a period.
    public func computeSignals(bars: BarColumns, indicators: any IndicatorSource, signal: UnsafeMutableBufferPointer<Int8>,
                               confidence: UnsafeMutableBufferPointer<Double>) throws(KtrdrError) {
        let rsi = try indicators.series(IndicatorSpec(kind: .rsi, featureId: "RSI", parameters: ["period": Double(period)]), output: 0)
        guard rsi.count == bars.count else { throw .invalidRequest("shared RSI series of \(rsi.count) values for \(bars.count) bars") }
        crossings(rsi, signal: signal, confidence: confidence)
    }

    func crossings(_ rsi: UnsafeBufferPointer<Double>, signal: UnsafeMutableBufferPointer<Int8>, confidence: UnsafeMutableBufferPointer<Double>) {
        for t in 0..<rsi.count {
            signal[t] = SignalCode.hold
            confidence[t] = 0
            guard t > 0, !rsi[t - 1].isNaN, !rsi[t].isNaN else { continue }
            if rsi[t - 1] < oversold && rsi[t] >= oversold {
                signal[t] = SignalCode.buy
                confidence[t] = min(1, 0.5 + (oversold - rsi[t - 1]) / 20)
            } else if rsi[t - 1] > overbought && rsi[t] <= overbought {
                signal[t] = SignalCode.sell
                confidence[t] = min(1, 0.5 + (rsi[t - 1] - overbought) / 20)
            }
        }
    }
}
