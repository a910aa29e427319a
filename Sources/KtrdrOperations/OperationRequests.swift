import Foundation
import KtrdrAPI
import KtrdrCore
import KtrdrPlugins
import KtrdrFiles

/// Synchronous validation of requests: every check that can fail happens here, before an
/// operation exists, so the API answers 4xx and nothing is created.
extension OperationManager {
    /// Checks a backtest request without loading its bars unless they are in memory already:
    /// names, dates, costs, strategy and plugin, then the data file's header and range by a
    /// probe (`DataProbe`), so the id returns in milliseconds whatever the file's size.
    /// `dataPath`: the file to run on instead of the one named by symbol and timeframe (a
    /// worker's blob).
    static func prepare(_ p: StartRequest, config: OperationsConfig, source: String? = nil, dataPath: String? = nil) throws(KtrdrError) -> BacktestJob {
        let (strategy, file, tf, fileText) = try common(p, config: config, source: source)
        if let mode = p.mode, mode != "local", mode != "remote" {
            throw .invalidRequest("mode: expected local or remote, got '\(mode.prefix(40))'")
        }
        if let pace = p.paceBarsPerSecond, !(pace >= 1 && pace <= 1e12) {
            throw .invalidRequest("pace_bars_per_second must be in [1, 1e12], got \(pace)")
        }
        var request = BacktestRequest(strategy: strategy, symbol: p.symbol, timeframe: tf)
        (request.start, request.end) = try dates(p)
        request.initialCapital = p.initialCapital ?? 100_000
        request.commission = p.commission ?? 0.001
        request.slippage = p.slippage ?? 0.0005
        let settings = strategy.executionSettings(initialCapital: request.initialCapital, commission: request.commission, slippage: request.slippage)
        if let problem = settings.problems().first { throw .invalidRequest(problem) }
        let implementation: any SignalStrategy
        do throws(KtrdrError) {
            implementation = try config.strategies.make(strategy, file: file, symbol: p.symbol, timeframe: tf, modelPath: p.modelPath)
        } catch {
            throw p.strategyOverrides.explain(error)  // the plugin's own checks of a value given for this run
        }
        let path: String
        if let dataPath { path = dataPath } else { path = try Backtester.dataPath(symbol: p.symbol, timeframe: tf, dataDirectory: config.dataDirectory) }
        let spec = BacktestSpec(strategyName: strategy.name, strategySource: strategy.source, strategySha256: Checksum.sha256(Array(fileText.utf8)),
                                symbol: p.symbol, timeframe: tf.rawValue, dataPath: path, start: request.start, end: request.end,
                                initialCapital: request.initialCapital, commission: request.commission, slippage: request.slippage,
                                modelPath: p.modelPath, paceBarsPerSecond: p.paceBarsPerSecond)
        let warmup = max(strategy.historyRequired, implementation.warmupBars, settings.exitWarmup)
        var prepared: PreparedBacktest?
        if let bars = config.dataCache?.cached(path) {
            prepared = try Backtester.prepare(request, strategy: implementation, dataDirectory: config.dataDirectory) { _ throws(KtrdrError) in bars }
        } else if let facts = try DataProbe.facts(path: path, request: request, warmup: warmup) {
            try Backtester.checkRange(request, path: path, warmup: warmup, facts)
        } else {  // a file the probe cannot read cheaply: load it now, its parser names the defect
            prepared = try Backtester.prepare(request, strategy: implementation, dataDirectory: config.dataDirectory) { _ throws(KtrdrError) in try config.load(path) }
        }
        return BacktestJob(spec: spec, startRequest: p, request: request, strategy: implementation, prepared: prepared)
    }

    /// The training's checks; its bars are loaded by the operation (first phase) unless the
    /// data cache holds them. The range's bar count is checked here from a probe of the file.
    static func prepareTraining(_ p: StartRequest, config: OperationsConfig) throws(KtrdrError) -> TrainingJob {
        let (strategy, _, tf, _) = try common(p, config: config)
        let (start, end) = try dates(p)
        let path = try Backtester.dataPath(symbol: p.symbol, timeframe: tf, dataDirectory: config.dataDirectory)
        let job = try TrainingJob(config: strategy, symbol: p.symbol, timeframe: tf, dataPath: path, start: start, end: end,
                                  plugins: config.strategies.plugins)
        if let bars = config.dataCache?.cached(path) { return try job.loaded(from: bars) }
        if let found = try DataProbe.count(path: path, start: start, end: end, upTo: job.barsNeeded) {
            try job.checkCount(found)
            return job
        }
        return try job.loaded(from: try config.load(path))  // the parser names the defect
    }

    /// The names checked and the strategy loaded with the request's overrides (from `source`
    /// when given: a sweep's trials all run the text read when it was accepted), and the file's
    /// own text.
    private static func common(_ p: StartRequest, config: OperationsConfig, source: String? = nil) throws(KtrdrError) -> (StrategyConfig, String, Timeframe, String) {
        try Names.check(p.strategyName, field: "strategy_name")
        try Names.check(p.symbol, field: "symbol")
        let tf = try Names.timeframe(p.timeframe)
        let file: String, text: String
        if let source {
            (file, text) = (try StrategyLoader.path(for: p.strategyName, in: config.strategiesDirectory), source)
        } else {
            (file, text) = try StrategyLoader.text(name: p.strategyName, directory: config.strategiesDirectory)
        }
        return (try StrategyLoader.parse(text, fileName: file, expectedName: p.strategyName, overrides: p.strategyOverrides), file, tf, text)
    }

    private static func dates(_ p: StartRequest) throws(KtrdrError) -> (Int64?, Int64?) {
        var start: Int64?, end: Int64?
        if let s = p.startDate {
            guard let t = UTCTime.parse(s) else { throw .invalidDate(field: "start_date", value: s) }
            start = t
        }
        if let e = p.endDate {
            guard let t = UTCTime.parse(e) else { throw .invalidDate(field: "end_date", value: e) }
            end = e.count == 10 ? t + 86_399 : t
        }
        if let start, let end, end < start {
            throw .invalidRequest("end_date \(UTCTime.iso(end)) is before start_date \(UTCTime.iso(start))")
        }
        return (start, end)
    }
}
