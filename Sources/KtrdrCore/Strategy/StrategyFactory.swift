/// Turns a validated strategy file into the implementation that computes its signals.
public enum StrategyFactory {
    public static func make(_ config: StrategyConfig) throws(KtrdrError) -> any SignalStrategy {
        let p = config.params
        switch config.plugin {
        case "sma_crossover":
            return SMACrossover(fastPeriod: Int(p["fast_period"] ?? 10), slowPeriod: Int(p["slow_period"] ?? 30))
        case "rsi_mean_reversion":
            return RSIMeanReversion(period: Int(p["period"] ?? 14), oversold: p["oversold"] ?? 30, overbought: p["overbought"] ?? 70)
        case "neuro":
            throw .unsupported("strategy '\(config.name)' uses the neuro plugin, which needs the torch model plugin; it is not available in this build yet")
        default:
            throw .unsupported("strategy '\(config.name)' names unknown plugin '\(config.plugin)'")
        }
    }
}
