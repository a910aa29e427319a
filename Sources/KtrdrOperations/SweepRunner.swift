import Foundation
import KtrdrAPI
import KtrdrCore
import KtrdrPlugins
import Logging
import Synchronization

/// Runs a sweep's trials: the data loaded once, then one worker thread per run slot pulling
/// trial indices from a shared counter. Each trial is a full backtest of the strategy file
/// with its values written in (the same checks and the same engine as a single backtest, so a
/// trial's metrics are bit-identical to `backtest run --param …` with those values). Only
/// metrics are kept; finished trials are stored in batches as they come.
struct SweepRunner {
    let id: String
    let job: SweepJob
    let config: OperationsConfig
    let store: OperationStore
    let logger: Logger

    /// Set when the sweep's trials also go to workers.
    var distributor: TrialDistributor? {
        guard let remote = config.remote, job.request.run.mode == "remote" || job.request.run.mode == nil && remote.remoteByDefault,
              let workers = directory else { return nil }
        return TrialDistributor(directory: workers, config: remote, logger: logger)
    }

    /// The workers' directory of the manager running this sweep.
    var directory: WorkerDirectory?

    /// Indicator series computed once and shared by the trials (SMA(10) is the same series
    /// for every slow period over the same bars).
    var indicators = IndicatorCache()

    /// The plugin and version the trials run on (workers must have the same).
    var plugin: PluginRef? {
        guard let s = try? config.strategies.make(job.base.strategy, file: job.strategyFile, symbol: job.base.symbol, timeframe: job.base.timeframe, modelPath: nil) as? PluginStrategy else { return nil }
        return PluginRef(name: s.plugin.descriptor.name, version: s.plugin.descriptor.version)
    }

    /// What a finished sweep reports.
    struct Summary: Sendable {
        var completed: Int
        var failed: Int
        var best: SweepTrial?
    }

    func run(bridge: ProgressBridge, token: CancellationToken) throws(KtrdrError) -> Summary {
        let bars = try config.load(job.dataPath) { phase, done, total in
            bridge.load(phase, done: done, total: total)
            return !token.isCancelled
        }
        let earlier = (try? store.trials(id)) ?? []
        var best: SweepTrial?
        for t in earlier where t.status == "completed" && (best == nil || job.rank.better(job.rank.value(t.metrics), than: job.rank.value(best!.metrics))) {
            best = t
        }
        bridge.startTrials(total: job.trials.count, alreadyDone: earlier.count, alreadyFailed: earlier.filter { $0.status != "completed" }.count,
                           best: best.flatMap { b in job.rank.value(b.metrics).map { ($0, b.params) } }, now: Date().timeIntervalSince1970)
        let queue = TrialQueue(job.trials.indices.filter { !job.done.contains($0) })
        let shared = Shared()
        let record: @Sendable (SweepTrial) -> Void = { [self] trial in
            bridge.trialFinished(failed: trial.status != "completed", value: job.rank.value(trial.metrics), params: trial.params, rank: job.rank)
            let flush = shared.batch.withLock { b -> [SweepTrial]? in
                b.pending.append(trial)
                guard b.pending.count >= 256 || Date().timeIntervalSince(b.lastFlush) > 0.5 else { return nil }
                b.lastFlush = Date()
                defer { b.pending.removeAll(keepingCapacity: true) }
                return b.pending
            }
            if let flush { save(flush, shared) }
        }
        // Workers take batches beside this machine's threads when the sweep runs remote.
        let remoteLoops = DispatchGroup()
        if let distributor {
            distributor.start(id, job: job, plugin: plugin, queue: queue, token: token, done: remoteLoops, record: record)
        }
        WorkerPool.run(count: config.maxConcurrent, workers: config.maxConcurrent, name: "sweep \(id)", token: token) { _ in
            while !token.isCancelled {
                guard let k = queue.take(1).first else {
                    if queue.drained { break }
                    usleep(20_000)  // a worker's batch in flight may come back
                    continue
                }
                guard let trial = runTrial(k, bars: bars, token: token) else {  // cancelled mid-trial
                    queue.giveBack([k])
                    break
                }
                record(trial)
                queue.finished(1)
            }
            return false
        }
        remoteLoops.wait()
        save(shared.batch.withLock { b in defer { b.pending = [] }; return b.pending }, shared)
        if let error = shared.batch.withLock({ $0.storeError }) {
            throw .io(path: store.path, message: "trials could not be stored: \(error)")
        }
        if token.isCancelled { throw .cancelled }
        let all = (try? store.trials(id)) ?? []
        let completed = all.filter { $0.status == "completed" }
        let order = job.rank.order(completed.map(\.metrics))
        return Summary(completed: completed.count, failed: all.count - completed.count, best: order.first.map { completed[$0] })
    }

    /// What the workers share: the trials finished and not yet stored, and the first store error.
    private final class Shared: Sendable {
        struct Batch {
            var pending: [SweepTrial] = []
            var lastFlush = Date()
            var storeError: String?
        }
        let batch = Mutex(Batch())
    }

    private func save(_ trials: [SweepTrial], _ shared: Shared) {
        do { try store.saveTrials(id, trials) } catch {
            logger.error("sweep trials not stored", metadata: ["operation_id": "\(id)", "error": "\(error)"])
            shared.batch.withLock { if $0.storeError == nil { $0.storeError = "\(error)" } }
        }
    }

    /// One trial as a full backtest; nil when it was cancelled (it is then not recorded).
    func runTrial(_ index: Int, bars: Bars, token: CancellationToken) -> SweepTrial? {
        let params = job.params(for: index)
        do throws(KtrdrError) {
            let result = try backtest(job.overrides(for: index), bars: bars, start: job.base.start, end: job.base.end, token: token)
            return SweepTrial(index: index, params: params, status: "completed", metrics: result.metrics,
                              returns: ReturnStats.of(equity: result.equityCurve.equity))
        } catch .cancelled {
            return nil
        } catch {
            return SweepTrial(index: index, params: params, status: "failed", error: OperationError(code: error.code, message: error.description))
        }
    }

    /// The job's strategy with `overrides` written in, backtested on `bars` (loaded once) from
    /// `start` to `end` exactly as a single backtest with those values and dates: warm-up from
    /// before `start`, nothing after `end`.
    /// `modelPath`: the model a model strategy runs with (default: its latest version).
    func backtest(_ overrides: StrategyOverrides, bars: Bars, start: Int64?, end: Int64?, token: CancellationToken,
                  modelPath: String? = nil) throws(KtrdrError) -> BacktestResult {
        let strategy = try StrategyLoader.parse(job.strategySource, fileName: job.strategyFile, expectedName: job.request.run.strategyName,
                                                overrides: overrides)
        var request = job.base
        request.strategy = strategy
        request.start = start
        request.end = end
        let implementation: any SignalStrategy
        do throws(KtrdrError) {
            implementation = try config.strategies.make(strategy, file: job.strategyFile, symbol: request.symbol,
                                                         timeframe: request.timeframe, modelPath: modelPath)
        } catch { throw overrides.explain(error) }
        let prepared = try Backtester.prepare(request, strategy: implementation, dataDirectory: config.dataDirectory,
                                              indicators: indicators) { _ throws(KtrdrError) in bars }
        return try Backtester.run(prepared, progress: nil, cancel: token)
    }
}
