import Foundation
import KtrdrAPI
import KtrdrCore
import KtrdrFiles
import KtrdrPlugins
import Logging
import Synchronization

/// A validated walk-forward: a sweep (its grid and rank) and the windows, in bar indices.
struct WalkForwardJob: Sendable {
    let request: WalkForwardRequest
    let sweep: SweepJob
    let windows: [WalkForwardWindow]
    /// Set for a model strategy: each window trains its own model instead of sweeping.
    var training: TrainingJob?
    /// Backtests it runs: every trial on every window's training bars, plus one test run each.
    var runs: Int { windows.count * (sweep.trials.count + 1) }
}

extension OperationManager {
    /// The sweep's checks, then the windows: the first starts after the longest warm-up any
    /// trial needs (each trial's plugin says its own), so no in-sample run lacks history.
    static func prepareWalkForward(_ r: WalkForwardRequest, config: OperationsConfig) throws(KtrdrError) -> WalkForwardJob {
        if let trained = try prepareModelWalkForward(r, config: config) { return trained }
        let sweep = try prepareSweep(r.sweep, config: config)
        var longest = sweep.base.strategy.historyRequired
        for k in sweep.trials.indices {
            let strategy = try StrategyLoader.parse(sweep.strategySource, fileName: sweep.strategyFile, expectedName: r.sweep.run.strategyName,
                                                    overrides: sweep.overrides(for: k))
            let implementation: any SignalStrategy
            do throws(KtrdrError) {
                implementation = try config.strategies.make(strategy, file: sweep.strategyFile, symbol: sweep.base.symbol,
                                                             timeframe: sweep.base.timeframe, modelPath: nil)
            } catch { throw sweep.overrides(for: k).explain(error) }
            longest = max(longest, strategy.historyRequired, implementation.warmupBars,
                          strategy.executionSettings(initialCapital: 1, commission: 0, slippage: 0).exitWarmup)
        }
        // Windows are bar indices: the file is read here (through the data cache, so the run
        // itself does not read it again).
        let timestamps = try config.load(sweep.dataPath).timestamps
        let windows = try WalkForwardPlan.windows(timestamps: timestamps, first: longest, train: r.train, test: r.test, step: r.step ?? r.test)
        return WalkForwardJob(request: r, sweep: sweep, windows: windows)
    }
}

/// Runs a walk-forward: the data loaded once; per window, every trial on the training bars
/// (in parallel, through `SweepRunner.backtest`: each exactly a backtest with those values and
/// dates, warm-up from before the window), the best by the rank metric (first in trial order on
/// ties) then on the test bars. A window's choice sees only bars up to its training end.
struct WalkForwardRunner {
    let id: String
    let job: WalkForwardJob
    let config: OperationsConfig
    let store: OperationStore
    let logger: Logger

    func run(bridge: ProgressBridge, token: CancellationToken) throws(KtrdrError) -> WalkForwardSummary {
        let trials = SweepRunner(id: id, job: job.sweep, config: config, store: store, logger: logger)
        let bars = try config.load(job.sweep.dataPath) { phase, done, total in
            bridge.load(phase, done: done, total: total)
            return !token.isCancelled
        }
        let ts = bars.timestamps, rank = job.sweep.rank
        bridge.startTrials(total: job.runs, alreadyDone: 0, alreadyFailed: 0, best: nil, now: Date().timeIntervalSince1970)
        var stitched = Stitched(capital: job.sweep.base.initialCapital)
        var inSampleReturns = [Double](), outOfSampleReturns = [Double]()
        for w in job.windows {
            if token.isCancelled { throw .cancelled }
            let trainFrom = ts[w.trainStart], trainTo = ts[w.trainEnd - 1]
            var trained: TrainedWindow?
            let inSample: [Metrics?]
            if let training = job.training {
                let t = try trainWindow(w, training: training, trials: trials, bars: bars, token: token)
                bridge.trialFinished(failed: t.inSample == nil, value: rank.value(t.inSample), params: [:], rank: rank)
                (trained, inSample) = (t, [t.inSample])
            } else {
                inSample = sweepWindow(trainFrom: trainFrom, trainTo: trainTo, trials: trials, bars: bars, bridge: bridge, token: token)
            }
            if token.isCancelled { throw .cancelled }
            let failed = inSample.filter { $0 == nil }.count
            var window = WalkForwardWindowResult(index: w.index, trainStart: UTCTime.iso(trainFrom), trainEnd: UTCTime.iso(trainTo),
                                                 testStart: UTCTime.iso(ts[w.testStart]), testEnd: UTCTime.iso(ts[w.testEnd - 1]),
                                                 trainBars: w.trainEnd - w.trainStart, testBars: w.testEnd - w.testStart, params: nil,
                                                 inSample: nil, outOfSample: nil, trials: inSample.count, trialsFailed: failed, error: trained?.error,
                                                 model: trained?.model)
            let order = rank.order(inSample).filter { inSample[$0] != nil }
            if let best = order.first {
                window.params = job.sweep.params(for: best)
                window.inSample = inSample[best]
                do throws(KtrdrError) {
                    let test = try trials.backtest(job.sweep.overrides(for: best), bars: bars, start: ts[w.testStart], end: ts[w.testEnd - 1],
                                                   token: token, modelPath: trained?.model)
                    window.outOfSample = test.metrics
                    stitched.append(test)
                    if let i = inSample[best]?.annualizedReturn, let o = test.metrics.annualizedReturn { inSampleReturns.append(i); outOfSampleReturns.append(o) }
                } catch .cancelled {
                    throw .cancelled
                } catch {
                    window.error = OperationError(code: error.code, message: "test run: \(error.description)")
                }
            } else if window.error == nil {
                window.error = OperationError(code: "no_trial_completed", message: "none of the \(inSample.count) trials completed on the training bars")
            }
            bridge.trialFinished(failed: window.outOfSample == nil, value: nil, params: window.params ?? [:], rank: rank)
            do { try store.saveWindow(id, window) } catch { throw .io(path: store.path, message: "window \(w.index) could not be stored: \(error)") }
        }
        let meanIn = inSampleReturns.isEmpty ? 0 : inSampleReturns.reduce(0, +) / Double(inSampleReturns.count)
        let meanOut = outOfSampleReturns.isEmpty ? 0 : outOfSampleReturns.reduce(0, +) / Double(outOfSampleReturns.count)
        return stitched.summary(barsPerYear: job.sweep.base.timeframe.barsPerYear, efficiency: meanIn > 0 ? meanOut / meanIn : nil)
    }

    /// Every trial on a window's training bars, in parallel: their metrics by trial (nil: failed).
    private func sweepWindow(trainFrom: Int64, trainTo: Int64, trials: SweepRunner, bars: Bars, bridge: ProgressBridge,
                             token: CancellationToken) -> [Metrics?] {
        let results = Slots(count: job.sweep.trials.count), rank = job.sweep.rank
        WorkerPool.run(count: job.sweep.trials.count, workers: config.maxConcurrent, name: "walkforward \(id)", token: token) { k in
            let metrics = try? trials.backtest(job.sweep.overrides(for: k), bars: bars, start: trainFrom, end: trainTo, token: token).metrics
            results.values.withLock { $0[k] = metrics }
            bridge.trialFinished(failed: metrics == nil, value: rank.value(metrics), params: job.sweep.params(for: k), rank: rank)
            return !token.isCancelled
        }
        return results.values.withLock { $0 }
    }

    /// One window's in-sample metrics by trial, filled by the workers.
    private final class Slots: Sendable {
        let values: Mutex<[Metrics?]>
        init(count: Int) { values = Mutex([Metrics?](repeating: nil, count: count)) }
    }

    /// The test runs joined: each one's per-bar returns compounded on the previous end.
    struct Stitched {
        let capital: Double
        var level = 1.0, peak = 1.0, maxDrawdown = 0.0
        var count = 0, sum = 0.0, sumSq = 0.0, trades = 0
        /// Each test run's measured bars a year, weighted by its returns.
        var periods = 0.0
        var first: Int64?, last: Int64?

        init(capital: Double) { self.capital = capital }

        mutating func append(_ r: BacktestResult) {
            let before = count
            defer { periods += r.metrics.barsPerYear * Double(count - before) }
            var previous = capital
            for (t, e) in r.equityCurve.equity.enumerated() {
                guard previous != 0 else { previous = e; continue }
                let ret = e / previous - 1
                previous = e
                level *= 1 + ret
                peak = max(peak, level)
                maxDrawdown = max(maxDrawdown, (peak - level) / peak * 100)
                count += 1; sum += ret; sumSq += ret * ret
                if first == nil { first = r.equityCurve.timestamps[t] }
                last = r.equityCurve.timestamps[t]
            }
            trades += r.trades.count
        }

        /// `barsPerYear`: the timeframe's nominal count, used only when no test run measured one.
        func summary(barsPerYear: Double, efficiency: Double?) -> WalkForwardSummary {
            let mean = count > 0 ? sum / Double(count) : 0
            let variance = count > 1 ? (sumSq - sum * sum / Double(count)) / Double(count - 1) : 0
            let years = Double((last ?? 0) - (first ?? 0)) / (365.25 * 86_400)
            let barsPerYear = count > 0 && periods > 0 ? periods / Double(count) : barsPerYear
            return WalkForwardSummary(bars: count, totalReturnPct: (level - 1) * 100,
                                      annualizedReturnPct: years > 0 && level > 0 ? (pow(level, 1 / years) - 1) * 100 : nil,
                                      sharpeRatio: variance > 0 ? mean / variance.squareRoot() * barsPerYear.squareRoot() : nil,
                                      maxDrawdownPct: maxDrawdown, trades: trades, walkForwardEfficiency: efficiency)
        }
    }
}

extension OperationStore {
    /// A walk-forward window's outcome, as row `index` of the operation (the sweeps' table).
    func saveWindow(_ id: String, _ window: WalkForwardWindowResult) throws {
        let json = String(decoding: try KtrdrJSON.encoder().encode(window), as: UTF8.self)
        try writes.sync {
            _ = try writer.withLock { box in
                try box.db.query("INSERT OR REPLACE INTO sweep_trials(sweep_id, idx, trial) VALUES(?, ?, ?)", [.text(id), .int(Int64(window.index)), .text(json)])
            }
        }
    }

    /// A walk-forward's stored windows, in order.
    func windows(_ id: String) throws -> [WalkForwardWindowResult] {
        let decoder = KtrdrJSON.decoder()
        return try read { db in
            try db.query("SELECT trial FROM sweep_trials WHERE sweep_id = ? ORDER BY idx", [.text(id)]).compactMap { row in
                guard let text = row.first?.text else { return nil }
                return try decoder.decode(WalkForwardWindowResult.self, from: Data(text.utf8))
            }
        }
    }
}
