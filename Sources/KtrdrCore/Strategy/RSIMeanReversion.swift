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

    public var name: String { "rsi_mean_reversion" }
    public var warmupBars: Int { period + 1 }

    public func computeSignals(bars: Bars, signal: UnsafeMutableBufferPointer<Int8>,
                               confidence: UnsafeMutableBufferPointer<Double>) throws(KtrdrError) {
        let rsi = TA.rsi(bars.close, period: period)
        for t in 0..<bars.count {
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
