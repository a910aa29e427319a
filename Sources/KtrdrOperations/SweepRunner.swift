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
        let todo = job.trials.indices.filter { !job.done.contains($0) }
        let shared = Shared()
        WorkerPool.run(count: todo.count, workers: config.maxConcurrent, name: "sweep \(id)", token: token) { k in
            guard let trial = runTrial(todo[k], bars: bars, token: token) else { return false }  // cancelled mid-trial
            bridge.trialFinished(failed: trial.status != "completed", value: job.rank.value(trial.metrics), params: trial.params, rank: job.rank)
            let flush = shared.batch.withLock { b -> [SweepTrial]? in
                b.pending.append(trial)
                guard b.pending.count >= 256 || Date().timeIntervalSince(b.lastFlush) > 0.5 else { return nil }
                b.lastFlush = Date()
                defer { b.pending.removeAll(keepingCapacity: true) }
                return b.pending
            }
            if let flush { save(flush, shared) }
            return true
        }
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
    func backtest(_ overrides: StrategyOverrides, bars: Bars, start: Int64?, end: Int64?, token: CancellationToken) throws(KtrdrError) -> BacktestResult {
        let strategy = try StrategyLoader.parse(job.strategySource, fileName: job.strategyFile, expectedName: job.request.run.strategyName,
                                                overrides: overrides)
        var request = job.base
        request.strategy = strategy
        request.start = start
        request.end = end
        let implementation: any SignalStrategy
        do throws(KtrdrError) {
            implementation = try config.strategies.make(strategy, file: job.strategyFile, symbol: request.symbol,
                                                         timeframe: request.timeframe, modelPath: nil)
        } catch { throw overrides.explain(error) }
        let prepared = try Backtester.prepare(request, strategy: implementation, dataDirectory: config.dataDirectory) { _ throws(KtrdrError) in bars }
        return try Backtester.run(prepared, progress: nil, cancel: token)
    }
}
