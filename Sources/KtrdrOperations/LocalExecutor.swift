import CKtrdrSupport
import Foundation
import KtrdrAPI
import KtrdrCore
import KtrdrPlugins
import Logging

/// What an operation computes, resolved into engine inputs.
enum OperationWork: Sendable {
    case backtest(BacktestJob)
    case training(TrainingJob)
    case sweep(SweepJob)
    case walkForward(WalkForwardJob)
    /// A remote backtest found running on a worker when this server started: followed, not re-run.
    case adopted(RemoteAssignment, OperationRecord)
}

/// What a finished operation produced.
enum OperationOutcome: Sendable {
    case backtest(BacktestResult)
    case training(TrainingOutcome)
    case sweep(SweepRunner.Summary)
    case walkForward(WalkForwardSummary)
    /// A backtest completed on a worker; its result is already copied into the store.
    case remote(RemoteCompletion)
}

/// How an operation ended, as its executor reports it (once).
struct ExecutionReport: Sendable {
    var outcome: Result<OperationOutcome, KtrdrError>
    /// The result was computed but could not be stored.
    var storeError: String?
    var finishedAt: Date
}

/// Runs operations somewhere and reports each one's end exactly once. The scheduler
/// (`OperationManager`) owns queueing, limits, states and persistence; an executor owns only
/// the computation: the local one below runs it on a thread of this process.
protocol OperationExecutor: Sendable {
    func launch(_ id: String, _ work: OperationWork, bridge: ProgressBridge, token: CancellationToken, pace: Double?,
                done: @escaping @Sendable (ExecutionReport) -> Void)
}

/// Runs each operation on its own thread (off Swift's cooperative pool, so the servers stay
/// responsive while every core computes), stores a backtest's result from that thread, then
/// reports.
struct LocalExecutor: OperationExecutor {
    let store: OperationStore
    let config: OperationsConfig
    let logger: Logger
    /// Workers a sweep may hand batches of trials to.
    var directory: WorkerDirectory?
    /// Niceness of operation threads (the servers' threads keep 0).
    static let nice: Int32 = 10

    func launch(_ id: String, _ work: OperationWork, bridge: ProgressBridge, token: CancellationToken, pace: Double?,
                done: @escaping @Sendable (ExecutionReport) -> Void) {
        let thread = Thread { [self] in
            // Computation yields to the servers: a GET answers in microseconds of CPU, and at
            // equal priority it waits behind whole scheduler slices of the operations.
            _ = ktrdr_nice_current_thread(Self.nice)
            let report = run(id, work, bridge: bridge, token: token, pace: pace)
            done(report)
            store.checkpoint()  // after the completion is reported
        }
        thread.name = "operation \(id)"
        thread.stackSize = 8 << 20
        thread.start()
    }

    private func run(_ id: String, _ work: OperationWork, bridge: ProgressBridge, token: CancellationToken, pace: Double?) -> ExecutionReport {
        let t0 = Date()
        var outcome: Result<OperationOutcome, KtrdrError>
        var storeError: String?
        switch work {
        case let .backtest(job):
            let plugin = (job.strategy as? PluginStrategy)?.plugin
            plugin?.acquire(id)
            defer { plugin?.release(id) }
            do throws(KtrdrError) {
                let prepared = try job.resolve(load: config.load, dataDirectory: config.dataDirectory, bridge: bridge, token: token)
                bridge.prepared(bars: prepared.tradedBars, warmup: prepared.first)
                let sink = pace.map { Pacer(rate: $0, bridge: bridge).sink } ?? bridge.sink
                outcome = .success(.backtest(try Backtester.run(prepared, progress: sink, cancel: token)))
            } catch {
                outcome = .failure(error)
            }
            let t1 = Date()
            if case let .success(.backtest(result)) = outcome {
                do { try store.saveResult(id, result) } catch { storeError = "\(error)" }
                logger.info("backtest computed and stored", metadata: [
                    "operation_id": "\(id)", "engine_ms": "\(Int(t1.timeIntervalSince(t0) * 1000))",
                    "store_ms": "\(Int(Date().timeIntervalSince(t1) * 1000))"])
            }
        case let .sweep(job):
            do throws(KtrdrError) {
                outcome = .success(.sweep(try SweepRunner(id: id, job: job, config: config, store: store, logger: logger, directory: directory).run(bridge: bridge, token: token)))
            } catch { outcome = .failure(error) }
        case let .walkForward(job):
            do throws(KtrdrError) {
                outcome = .success(.walkForward(try WalkForwardRunner(id: id, job: job, config: config, store: store, logger: logger).run(bridge: bridge, token: token)))
            } catch { outcome = .failure(error) }
        case .adopted:
            outcome = .failure(.unsupported("an adopted remote operation cannot run locally"))
        case var .training(job):
            job.plugin.acquire(id)
            defer { job.plugin.release(id) }
            do throws(KtrdrError) {
                if job.bars.isEmpty {
                    job = try job.loaded(from: try config.load(job.dataPath) { phase, done, total in
                        bridge.load(phase, done: done, total: total)
                        return !token.isCancelled
                    })
                }
                outcome = .success(.training(try Trainer.run(job, models: config.strategies.models) { epoch in
                    bridge.write(epoch)
                    return !token.isCancelled
                }))
            } catch { outcome = .failure(error) }
        }
        return ExecutionReport(outcome: outcome, storeError: storeError, finishedAt: Date())
    }
}
