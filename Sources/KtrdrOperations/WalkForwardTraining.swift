import Foundation
import KtrdrAPI
import KtrdrCore
import KtrdrFiles
import KtrdrPlugins

/// Walk-forward of a model strategy (one with a `model:` section, e.g. `neuro`): instead of a
/// parameter sweep, each window trains its own model on its training bars only, runs it on
/// those bars (in-sample metrics) and then on the test bars after them (out of sample).
extension OperationManager {
    /// The walk-forward of a model strategy, checked as a training and a backtest would be;
    /// nil when the strategy has no model (a parameter sweep per window instead).
    static func prepareModelWalkForward(_ r: WalkForwardRequest, config: OperationsConfig) throws(KtrdrError) -> WalkForwardJob? {
        let run = r.sweep.run
        try Names.check(run.strategyName, field: "strategy_name")
        try Names.check(run.symbol, field: "symbol")
        let tf = try Names.timeframe(run.timeframe)
        let (file, text) = try StrategyLoader.text(name: run.strategyName, directory: config.strategiesDirectory)
        let fixed = run.strategyOverrides
        let strategy = try StrategyLoader.parse(text, fileName: file, expectedName: run.strategyName, overrides: fixed)
        guard let model = strategy.model else { return nil }
        guard r.sweep.grid.isEmpty, r.sweep.where == nil, r.sweep.samples == nil, (r.sweep.method ?? "grid") == "grid" else {
            throw .invalidRequest("grid: strategy '\(strategy.name)' has a model: its walk-forward trains one model per window and sweeps no parameters; give no grid, where or samples (fixed values go in params or overrides)")
        }
        _ = try config.strategies.plugins.plugin(named: strategy.plugin, kind: .strategy)
        let path = try Backtester.dataPath(symbol: run.symbol, timeframe: tf, dataDirectory: config.dataDirectory)
        let training = try TrainingJob(config: strategy, symbol: run.symbol, timeframe: tf, dataPath: path, plugins: config.strategies.plugins)
        var base = BacktestRequest(strategy: strategy, symbol: run.symbol, timeframe: tf)
        base.initialCapital = run.initialCapital ?? 100_000
        base.commission = run.commission ?? 0.001
        base.slippage = run.slippage ?? 0.0005
        let settings = strategy.executionSettings(initialCapital: base.initialCapital, commission: base.commission, slippage: base.slippage)
        if let problem = settings.problems().first { throw .invalidRequest(problem) }
        let rank = try RankMetric(r.sweep.rank ?? "sharpe_ratio", order: r.sweep.rankOrder)
        let sweep = SweepJob(request: r.sweep, strategyFile: file, strategySource: text, base: base, dataPath: path, names: [],
                             trials: [[]], rank: rank, fixed: fixed, done: [])
        let warmup = max(strategy.historyRequired, (strategy.indicators.map(\.lookback).max() ?? 0) + model.lookbackPeriods, settings.exitWarmup)
        let timestamps = try config.load(path).timestamps
        let windows = try WalkForwardPlan.windows(timestamps: timestamps, first: warmup, train: r.train, test: r.test, step: r.step ?? r.test)
        if let short = windows.first(where: { $0.trainEnd - $0.trainStart < training.barsNeeded }) {
            throw .insufficientData(needed: training.barsNeeded, found: short.trainEnd - short.trainStart,
                                    detail: "bars in the training part of window \(short.index + 1) to train \(strategy.name): warm-up, look-ahead and 100 rows")
        }
        return WalkForwardJob(request: r, sweep: sweep, windows: windows, training: training)
    }
}

extension WalkForwardRunner {
    /// What one window's training gave: the model (relative to the models directory) and its
    /// in-sample metrics, or the error that stopped it.
    struct TrainedWindow {
        var model: String?
        var inSample: Metrics?
        var error: OperationError?
    }

    /// Trains the window's model on its training bars (features warm up inside them; labels
    /// look ahead only within them), publishes it as `{SYMBOL}_{tf}_wf_{operation}_w{N}` beside
    /// the strategy's numbered versions, and runs it on the same bars.
    func trainWindow(_ w: WalkForwardWindow, training: TrainingJob, trials: SweepRunner, bars: Bars,
                     token: CancellationToken) throws(KtrdrError) -> TrainedWindow {
        let ts = bars.timestamps
        let trainFrom = ts[w.trainStart], trainTo = ts[w.trainEnd - 1]
        let models = config.strategies.models
        let name = "\(training.symbol)_\(training.timeframe.rawValue)_wf_\(id)_w\(w.index + 1)"
        let directory = ((models.root as NSString).appendingPathComponent(training.config.name) as NSString).appendingPathComponent(name)
        do throws(KtrdrError) {
            let windowJob = try TrainingJob(config: training.config, symbol: training.symbol, timeframe: training.timeframe, dataPath: training.dataPath,
                                      start: trainFrom, end: trainTo, plugins: config.strategies.plugins).loaded(from: bars)
            if FileManager.default.fileExists(atPath: directory) { try? FileManager.default.removeItem(atPath: directory) }  // a resumed run's
            _ = try Trainer.run(windowJob, models: models, into: directory) { _ in !token.isCancelled }
            let relative = "\(training.config.name)/\(name)"
            let metrics = try trials.backtest(job.sweep.overrides(for: 0), bars: bars, start: trainFrom, end: trainTo, token: token, modelPath: relative).metrics
            return TrainedWindow(model: relative, inSample: metrics)
        } catch .cancelled {
            throw .cancelled
        } catch {
            return TrainedWindow(error: OperationError(code: error.code, message: "training on window \(w.index + 1): \(error.description)"))
        }
    }
}
