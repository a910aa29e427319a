import Foundation
import KtrdrAPI
import KtrdrClient
import KtrdrCore
import KtrdrPlugins
import Logging

/// Runs backtests on workers: picks one, ships the data file once (by SHA-256), dispatches
/// under a lease (attempt number and token), follows the run by reading it every
/// `pollSeconds` (progress mirrored, lease renewed), propagates a cancel, and on completion
/// copies the whole result into this server's store. A worker silent past the deadline, or
/// one that no longer runs the attempt (restarted, lease lapsed), loses the operation:
/// `worker_lost`, or another attempt elsewhere while `retries` allow. Only the current
/// attempt is ever read, so a superseded attempt's result never enters the store.
struct RemoteExecutor: OperationExecutor {
    let directory: WorkerDirectory
    let config: RemoteConfig
    let store: OperationStore
    let logger: Logger
    var shipper: BlobShipper { BlobShipper(directory: directory, config: config, logger: logger) }
    /// Records where an attempt runs (the manager persists it before the run is followed).
    let assigned: @Sendable (String, RemoteAssignment) async -> Void

    /// How following one attempt ended.
    enum Ending {
        case completed(OperationRecord)
        case failed(OperationError)
        case cancelled
        case lost(String)
    }

    func launch(_ id: String, _ work: OperationWork, bridge: ProgressBridge, token: CancellationToken, pace: Double?,
                done: @escaping @Sendable (ExecutionReport) -> Void) {
        // The plugin generation it runs on is in use until it ends (plugins list, hot reload).
        let plugin: LoadedPlugin? = if case let .backtest(job) = work { (job.strategy as? PluginStrategy)?.plugin } else { nil }
        plugin?.acquire(id)
        Task {
            defer { plugin?.release(id) }
            let outcome: Result<OperationOutcome, KtrdrError>
            do throws(KtrdrError) {
                outcome = .success(try await run(id, work, bridge: bridge, token: token))
            } catch { outcome = .failure(error) }
            done(ExecutionReport(outcome: outcome, storeError: nil, finishedAt: Date()))
        }
    }

    private func run(_ id: String, _ work: OperationWork, bridge: ProgressBridge, token: CancellationToken) async throws(KtrdrError) -> OperationOutcome {
        var lost = Set<String>()
        var attempt = 1
        var current: RemoteAssignment
        switch work {
        case let .adopted(assignment, _):
            current = assignment
            attempt = assignment.attempt
            await directory.assigned(current.workerUrl, 1)
        case let .backtest(job):
            current = try await dispatch(id, job, attempt: attempt, excluding: lost, token: token)
        default:
            throw .unsupported("only backtests run on remote workers")
        }
        while true {
            let ending = await follow(id, current, bridge: bridge, token: token)
            await directory.assigned(current.workerUrl, -1)
            switch ending {
            case let .completed(record):
                return try await fetchResult(id, current, record)
            case let .failed(error):
                throw .remote(code: error.code, message: error.code == "plugin_crashed" ? error.message : "on worker \(current.workerUrl): \(error.message)")
            case .cancelled:
                throw .cancelled
            case let .lost(why):
                await directory.failed(current.workerUrl, why)
                logger.warning("worker lost", metadata: ["operation_id": "\(id)", "worker": "\(current.workerUrl)", "attempt": "\(attempt)", "why": "\(why)"])
                guard attempt <= config.retries, case let .backtest(job) = work, !token.isCancelled else {
                    throw .remote(code: "worker_lost", message: "worker \(current.workerUrl) lost on attempt \(attempt): \(why)")
                }
                lost.insert(current.workerUrl)
                attempt += 1
                do throws(KtrdrError) {
                    current = try await dispatch(id, job, attempt: attempt, excluding: lost, token: token)
                } catch {
                    guard error.code == "no_worker" else { throw error }
                    throw .remote(code: "worker_lost", message: "worker \(current.workerUrl) lost on attempt \(attempt - 1) (\(why)); no other worker to retry on: \(error.description)")
                }
            }
        }
    }

    /// Picks a worker, makes sure it has the data file, and starts the attempt there.
    private func dispatch(_ id: String, _ job: BacktestJob, attempt: Int, excluding: Set<String>, token: CancellationToken) async throws(KtrdrError) -> RemoteAssignment {
        let spec = job.spec
        let plugin = (job.strategy as? PluginStrategy).map { PluginRef(name: $0.plugin.descriptor.name, version: $0.plugin.descriptor.version) }
        let sha = try config.digests.sha256(spec.dataPath)
        var tried = excluding
        let local = config.localBlobs != nil
        let waitUntil = Date(timeIntervalSinceNow: 10)
        while true {
            if token.isCancelled { throw .cancelled }
            let picked: (url: String, info: WorkerInfo)
            do throws(KtrdrError) { picked = try await directory.choose(plugin: plugin, excluding: tried) } catch {
                // Local worker processes come back within a fraction of a second: wait for one.
                guard local, error.code == "no_worker", Date() < waitUntil else { throw error }
                tried = excluding
                try? await Task.sleep(for: .milliseconds(20))
                continue
            }
            let (url, info) = picked
            let lease = UUID().uuidString.lowercased()
            var run = job.startRequest
            run.mode = nil
            let request = DispatchRequest(run: run, strategySource: spec.strategySource, dataSha256: sha, plugin: plugin, serverOperationId: id,
                                          attempt: attempt, lease: lease, leaseSeconds: config.deadlineSeconds)
            do throws(ClientError) {
                let client = try directory.client(url, timeout: .seconds(max(2, config.deadlineSeconds)))
                try await shipper.ensure(spec.dataPath, sha: sha, on: url, info: info, for: id)
                let started = try await client.dispatch(request)
                let assignment = RemoteAssignment(workerUrl: url, remoteOperationId: started.operationId, attempt: attempt, lease: lease, workerInstance: info.instance)
                await assigned(id, assignment)
                logger.info("remote operation registered", metadata: ["operation_id": "\(id)", "worker": "\(url)", "remote_operation_id": "\(started.operationId)",
                                                                        "attempt": "\(attempt)", "mode": "\(url.hasPrefix("unix:") ? "process" : "remote")"])
                return assignment
            } catch {
                await directory.assigned(url, -1)
                if let status = error.status, (400..<500).contains(status), status != 409 {
                    throw .remote(code: error.code, message: "worker \(url) refused the backtest: \(error.message)")
                }
                await directory.failed(url, error.message)
                logger.warning("dispatch failed; trying another worker", metadata: ["operation_id": "\(id)", "worker": "\(url)", "error": "\(error.message)"])
                tried.insert(url)
            }
        }
    }

    /// Reads the attempt until it ends or is lost; sends the cancel once when asked.
    private func follow(_ id: String, _ a: RemoteAssignment, bridge: ProgressBridge, token: CancellationToken) async -> Ending {
        let ending = await poll(id, a, bridge: bridge, token: token)
        // A local worker process that died (and may already answer again as a new process on
        // the same socket): its plugin crashed, or it was killed. Not retried: it would crash again.
        if case .lost = ending, let instance = a.workerInstance, let how = await directory.death(instance: instance) {
            return .failed(OperationError(code: "plugin_crashed", message: "its worker process ended with \(how) (the daemon and its other operations are unaffected)"))
        }
        return ending
    }

    private func poll(_ id: String, _ a: RemoteAssignment, bridge: ProgressBridge, token: CancellationToken) async -> Ending {
        let pollMs = Int(config.pollSeconds * 1000)
        guard let client = try? directory.client(a.workerUrl, timeout: .milliseconds(pollMs) + .seconds(min(2, config.deadlineSeconds))) else { return .lost("bad worker URL") }
        var lastAnswer = Date()
        var cancelSent = false
        while true {
            if token.isCancelled, !cancelSent {
                cancelSent = true
                _ = try? await client.cancel(a.remoteOperationId)
            }
            do throws(ClientError) {
                // A long poll: the end is seen at once, progress at least every pollSeconds.
                let record = try await client.operation(a.remoteOperationId, lease: a.lease, waitMs: cancelSent || token.isCancelled ? 0 : pollMs)
                lastAnswer = Date()
                bridge.mirror(record.progress)
                switch record.status {
                case .completed: return .completed(record)
                case .cancelled: return record.error?.code == "lease_expired" ? .lost(record.error!.message) : .cancelled
                case .failed:
                    let e = record.error ?? OperationError(code: "failed", message: "failed without a reason")
                    return e.code == "interrupted" ? .lost("the worker restarted (\(e.message))") : .failed(e)
                case .pending, .running:
                    if cancelSent { try? await Task.sleep(for: .milliseconds(10)) }
                    continue
                }
            } catch {
                if let instance = a.workerInstance, await directory.death(instance: instance) != nil { return .lost("its process ended") }
                if error.status == 404 { return .lost("the worker no longer knows operation \(a.remoteOperationId) (restarted with other state?)") }
                if error.status == 409 { return .lost(error.message) }
                if Date().timeIntervalSince(lastAnswer) > config.deadlineSeconds {
                    return .lost("no answer for \(String(format: "%.1f", Date().timeIntervalSince(lastAnswer))) s (last error: \(error.message))")
                }
            }
            try? await Task.sleep(for: .milliseconds(pollMs))
        }
    }

    /// Copies the result into this server's store (checked end to end), so it outlives the worker.
    private func fetchResult(_ id: String, _ a: RemoteAssignment, _ record: OperationRecord) async throws(KtrdrError) -> OperationOutcome {
        let t0 = Date()
        let package: [UInt8]
        do throws(ClientError) {
            let client = try directory.client(a.workerUrl, timeout: .seconds(120))
            package = try await client.resultPackage(a.remoteOperationId, lease: a.lease)
        } catch {
            throw .remote(code: "result_not_copied", message: "the result of \(a.remoteOperationId) on \(a.workerUrl) could not be copied: \(error.message)")
        }
        let store = self.store
        let stored: String? = await OperationManager.offPool {
            do { try store.importResult(id, package: package, origin: "\(a.workerUrl) operation \(a.remoteOperationId)"); return nil } catch { return "\(error)" }
        }
        if let stored { throw .remote(code: "result_not_stored", message: "the result copied from \(a.workerUrl) could not be stored: \(stored)") }
        logger.info("remote result stored", metadata: ["operation_id": "\(id)", "bytes": "\(package.count)", "ms": "\(Int(Date().timeIntervalSince(t0) * 1000))"])
        return .remote(RemoteCompletion(metrics: record.resultSummary, bars: record.metadata.bars, warmupBars: record.metadata.warmupBars))
    }
}

/// What the server keeps of a completed remote backtest besides the copied result.
struct RemoteCompletion: Sendable {
    var metrics: Metrics?
    var bars: Int?
    var warmupBars: Int?
}
