import Foundation
import KtrdrAPI
import KtrdrCore
import KtrdrPlugins
import Logging
import KtrdrFiles

/// Where the daemon finds things and how much it runs at once.
public struct OperationsConfig: Sendable {
    public var dataDirectory: String
    public var strategiesDirectory: String
    public var maxConcurrent: Int
    public var retentionDays: Int
    /// Parsed data files kept in memory (nil: read the file for every request).
    public var dataCache: DataCache?
    /// Plugins and models: what strategy files are run with.
    public var strategies: StrategyProvider
    /// Seconds a running operation has to stop after a cancel request; then it is ended as
    /// `failed` (`cancel_timeout`) and its run slot released, its thread abandoned.
    public var cancelGraceSeconds: Double = 10
    /// Workers to hand backtests to (nil: everything runs here).
    public var remote: RemoteConfig?
    /// A worker's store of data files pushed by servers (nil: not a worker).
    public var blobs: BlobStore?
    /// Backtests run in this daemon's supervised worker processes (nil: on its threads).
    public var isolation: ChildPool?

    /// Reads a data file through the cache when there is one.
    var loadData: Backtester.DataLoader {
        { path throws(KtrdrError) in try self.load(path) }
    }

    /// Reads a data file through the cache when there is one, telling `observer` how far it got.
    func load(_ path: String, observer: CSVLoader.Observer? = nil) throws(KtrdrError) -> Bars {
        guard let cache = dataCache else { return try CSVLoader.load(path: path, observer: observer) }
        return try cache.load(path, observer: observer)
    }

    public init(dataDirectory: String, strategiesDirectory: String, strategies: StrategyProvider,
                maxConcurrent: Int = ProcessInfo.processInfo.activeProcessorCount, retentionDays: Int = 90, dataCache: DataCache? = nil) {
        self.dataCache = dataCache
        self.strategies = strategies
        self.dataDirectory = dataDirectory
        self.strategiesDirectory = strategiesDirectory
        self.maxConcurrent = max(1, maxConcurrent)
        self.retentionDays = retentionDays
    }
}

/// Schedules operations: validation happens before an operation exists; its record is
/// durable before its id is returned; at most `maxConcurrent` run (on the executor), the
/// rest wait `pending` in FIFO order. Every later record change is written in order on the
/// store's queue, never on this actor; a record stays in memory until its latest write is
/// confirmed, so reads (`OperationReads.swift`) never see an older state.
public actor OperationManager {
    struct Live {
        var record: OperationRecord
        let work: OperationWork
        let bridge: ProgressBridge
        let token = CancellationToken()
        var cancelRequestedAt: Date?
        var graceTimerStarted = false
        /// Why it is being cancelled, when not by a user's request (a lapsed lease).
        var cancelReason: OperationError?
        var isRemote: Bool { record.metadata.mode == "remote" }
    }

    /// A worker's dispatched run: the server's reads must keep coming under this lease.
    struct Lease {
        let token: String
        let seconds: Double
        var lastRead: Date
    }

    public nonisolated let store: OperationStore
    public nonisolated let config: OperationsConfig
    let logger: Logger
    private let executor: any OperationExecutor
    var remoteExecutor: (any OperationExecutor)?
    /// Runs backtests in the pool's worker processes (isolation `process`).
    private var isolatedExecutor: (any OperationExecutor)?
    /// The workers this server hands backtests to (nil: none configured).
    public nonisolated let workers: WorkerDirectory?
    var leases: [String: Lease] = [:]
    var leaseWatch: Task<Void, Never>?
    var live: [String: Live] = [:]
    /// Records whose latest write the store has not confirmed yet (with that write's number).
    var unconfirmed: [String: (record: OperationRecord, write: UInt64)] = [:]
    var writeCounter: UInt64 = 0
    /// Watchers waiting for an operation to end (woken by `finish`).
    var finishWaiters: [String: [UUID: CheckedContinuation<Void, Never>]] = [:]
    private var pending: [String] = []
    private var running = 0
    /// Remote operations in flight (they take no local run slot).
    private var remoteRunning = 0
    /// Set by `cancelAll`: nothing new is launched during shutdown.
    private var stopping = false
    /// Bumped each time the daemon becomes idle (see `releaseMemoryWhenIdle`).
    var idleSince: UInt64 = 0
    /// Bars processed by completed runs (for /metrics).
    public private(set) var barsProcessed = 0
    /// Operations ended by `cancel_timeout` whose threads may still be running plugin code.
    public private(set) var abandoned = 0

    public init(store: OperationStore, config: OperationsConfig, logger: Logger) {
        self.store = store
        self.config = config
        self.logger = logger
        self.workers = config.remote.map(WorkerDirectory.init(config:))
        self.executor = LocalExecutor(store: store, config: config, logger: logger, directory: workers)
        let manager = WeakManager()
        let record: @Sendable (String, RemoteAssignment) async -> Void = { id, a in await manager.value?.assigned(id, a) }
        if let remote = config.remote, let workers {
            remoteExecutor = RemoteExecutor(directory: workers, config: remote, store: store, logger: logger, assigned: record)
        }
        if let pool = config.isolation {
            isolatedExecutor = RemoteExecutor(directory: pool.directory, config: pool.directory.config, store: store, logger: logger, assigned: record)
        }
        manager.value = self
    }

    // MARK: Start

    /// Validates synchronously (off the actor: loading data can take a while), then creates
    /// the operation. Throws the API error for every check that fails; nothing is created then.
    public nonisolated func startBacktest(_ p: StartRequest) async throws(ApiError) -> OperationRecord {
        let config = self.config
        let job = try await Self.validated { () throws(KtrdrError) in try Self.prepare(p, config: config) }
        var metadata = OperationMetadata(parameters: p, mode: try mode(of: p))
        if metadata.mode == "remote", (job.strategy as? PluginStrategy)?.model != nil {
            throw ApiError(status: 400, code: "invalid_request", message: "mode 'remote': \(p.strategyName) runs a trained model, and model files are not shipped to workers yet; use mode 'local'")
        }
        metadata.bars = job.prepared?.tradedBars
        metadata.warmupBars = job.prepared?.first
        metadata.dataFile = job.spec.dataPath
        metadata.strategySha256 = job.spec.strategySha256
        metadata.params = job.request.strategy.params
        if let s = job.strategy as? PluginStrategy {
            metadata.plugin = PluginUse(name: s.plugin.descriptor.name, version: s.plugin.descriptor.version,
                                        generation: s.plugin.generation, file: s.plugin.file,
                                        modelPath: s.model?.directory, modelVersion: s.model?.metadata.version)
        }
        return try await create(.backtesting, metadata: metadata, items: job.prepared?.tradedBars ?? 0, work: .backtest(job))
    }

    /// Validates a training request synchronously (strategy, data, model plugin), then creates
    /// the operation.
    public nonisolated func startTraining(_ p: StartRequest) async throws(ApiError) -> OperationRecord {
        let config = self.config
        let job = try await Self.validated { () throws(KtrdrError) in try Self.prepareTraining(p, config: config) }
        var metadata = OperationMetadata(parameters: p)
        metadata.bars = job.bars.isEmpty ? nil : job.bars.count
        metadata.dataFile = job.dataPath
        metadata.plugin = PluginUse(name: job.plugin.descriptor.name, version: job.plugin.descriptor.version,
                                    generation: job.plugin.generation, file: job.plugin.file)
        return try await create(.training, metadata: metadata, items: job.model.epochs, work: .training(job))
    }

    /// Runs a request's checks on a GCD thread; their failure is the API's answer.
    static func validated<T: Sendable>(_ checks: @escaping @Sendable () throws(KtrdrError) -> T) async throws(ApiError) -> T {
        let result: Result<T, ApiError> = await offPool {
            do throws(KtrdrError) { return .success(try checks()) } catch { return .failure(ApiError(error)) }
        }
        return try result.get()
    }

    /// Writes the new record (off the actor) and only then queues it: an id is never returned
    /// for an operation the store could not record.
    nonisolated func create(_ type: OperationType, metadata: OperationMetadata, items: Int, work: OperationWork) async throws(ApiError) -> OperationRecord {
        var progress = OperationProgress()
        progress.itemsTotal = items
        let record = OperationRecord(operationId: OperationRecord.newId(type: type), operationType: type, status: .pending,
                                     createdAt: RecordTime.isoNow(), progress: progress, metadata: metadata)
        do { try await store.saveAsync(record) } catch {
            logger.error("operation refused: its record could not be written", metadata: ["error": "\(error)"])
            throw ApiError.storeUnavailable(error)
        }
        return await enqueue(Live(record: record, work: work, bridge: ProgressBridge(totalBars: items)))
    }

    func enqueue(_ op: Live) -> OperationRecord {
        let id = op.record.operationId
        live[id] = op
        let p = op.record.metadata.parameters
        logger.info("operation created", metadata: ["operation_id": "\(id)", "type": "\(op.record.operationType.rawValue)",
                                                    "strategy": "\(p.strategyName)", "symbol": "\(p.symbol)",
                                                    "items": "\(op.record.progress.itemsTotal)"])
        pending.append(id)
        launchPending()
        return live[id]?.record ?? op.record
    }

    /// Launches pending operations in order: remote ones at once (their workers queue them),
    /// local ones while a run slot is free.
    private func launchPending() {
        guard !stopping else { return }
        var waiting: [String] = []
        for id in pending {
            guard var op = live[id], op.record.status == .pending else { continue }
            let remote = op.isRemote
            guard remote || running < config.maxConcurrent else { waiting.append(id); continue }
            op.record.status = .running
            op.record.startedAt = RecordTime.isoNow()
            op.record.progress.currentStep = remote ? "Dispatching to a worker" : "Starting"
            live[id] = op
            persist(op.record)
            launch(id, op)
        }
        pending = waiting
    }

    func launch(_ id: String, _ op: Live) {
        let remote = op.isRemote
        if remote { remoteRunning += 1 } else { running += 1 }
        logger.info(remote ? "following remote operation" : "registered local progress bridge", metadata: ["operation_id": "\(id)", "mode": "\(op.record.metadata.mode)"])
        let isolated: Bool = if case .backtest = op.work { isolatedExecutor != nil } else { false }
        let executor = remote ? (remoteExecutor ?? self.executor) : isolated ? isolatedExecutor! : self.executor
        executor.launch(id, op.work, bridge: op.bridge, token: op.token, pace: op.record.metadata.parameters.paceBarsPerSecond) { [weak self] report in
            Task { await self?.finish(id, report) }
        }
    }

    private func finish(_ id: String, _ report: ExecutionReport) {
        guard var op = live.removeValue(forKey: id) else { return }
        if op.isRemote { remoteRunning -= 1 } else { running -= 1 }
        leases[id] = nil
        op.record.progress = progress(of: op)
        if case .training = op.work { op.record.metadata.epochs = op.bridge.epochs }
        if let (bars, warmup) = op.bridge.preparedBars {
            op.record.metadata.bars = bars
            op.record.metadata.warmupBars = warmup
            op.record.progress.itemsTotal = max(op.record.progress.itemsTotal, bars)
        }
        op.record.completedAt = RecordTime.iso(report.finishedAt)
        op.record.durationSeconds = RecordTime.seconds(op.record.completedAt).flatMap { end in RecordTime.seconds(op.record.startedAt).map { end - $0 } }
        switch report.outcome {
        case let .success(.training(result)):
            op.record.status = .completed
            op.record.metadata.trainingResult = result
            op.record.metadata.bars = result.metadata.data.bars
            op.record.progress.percentage = 100
            op.record.progress.currentStep = "Completed: model v\(result.version) at \(result.modelPath)"
            logger.info("model trained", metadata: ["operation_id": "\(id)", "model": "\(result.modelPath)",
                                                    "val_accuracy": "\(result.metadata.training.valAccuracy)"])
        case let .success(.sweep(summary)):
            op.record.status = .completed
            op.record.resultSummary = summary.best?.metrics
            op.record.progress.percentage = 100
            let best = summary.best.map { b in "; best " + b.params.keys.sorted().map { "\($0)=\(StrategyOverrides.Scalar.number(b.params[$0]!))" }.joined(separator: " ") } ?? ""
            op.record.progress.currentStep = "Completed: \(summary.completed) trials\(summary.failed > 0 ? ", \(summary.failed) failed" : "")\(best)"
            logger.info("sweep completed", metadata: ["operation_id": "\(id)", "completed": "\(summary.completed)", "failed": "\(summary.failed)"])
        case let .success(.walkForward(summary)):
            op.record.status = .completed
            op.record.metadata.walkForwardSummary = summary
            op.record.progress.percentage = 100
            op.record.progress.currentStep = String(format: "Completed: out of sample %+.2f %% over %d bars", summary.totalReturnPct, summary.bars)
            logger.info("walk-forward completed", metadata: ["operation_id": "\(id)", "oos_return_pct": "\(summary.totalReturnPct)"])
        case let .success(.remote(done)):
            op.record.status = .completed
            op.record.resultSummary = done.metrics
            op.record.metadata.bars = done.bars ?? op.record.metadata.bars
            op.record.metadata.warmupBars = done.warmupBars ?? op.record.metadata.warmupBars
            op.record.progress.percentage = 100
            op.record.progress.itemsProcessed = op.record.progress.itemsTotal
            op.record.progress.currentStep = "Completed on \(op.record.metadata.workerUrl ?? "a worker")"
            barsProcessed += done.bars ?? 0
        case let .success(.backtest(result)):
            if let storeError = report.storeError {
                op.record.status = .failed
                op.record.error = OperationError(code: "result_not_stored", message: "the result could not be stored: \(storeError)")
                logger.error("result not stored", metadata: ["operation_id": "\(id)", "error": "\(storeError)"])
            } else {
                op.record.status = .completed
                op.record.resultSummary = result.metrics
                op.record.progress.percentage = 100
                op.record.progress.itemsProcessed = op.record.progress.itemsTotal
                op.record.progress.currentStep = "Completed"
                barsProcessed += result.bars
            }
        case .failure(.cancelled):
            op.record.status = .cancelled
            op.record.error = op.cancelReason ?? OperationError(code: "cancelled", message: "cancelled by request")
            op.record.progress.currentStep = "Cancelled at " + op.record.progress.currentStep
            let ms = op.cancelRequestedAt.map { String(format: "%.1f", report.finishedAt.timeIntervalSince($0) * 1000) } ?? "?"
            logger.info("operation cancelled", metadata: ["operation_id": "\(id)", "cancel_latency_ms": "\(ms)"])
        case let .failure(error):
            op.record.status = .failed
            op.record.error = OperationError(code: error.code, message: error.description)
            logger.error("operation failed", metadata: ["operation_id": "\(id)", "error": "\(error)"])
        }
        persist(op.record)
        for waiter in (finishWaiters.removeValue(forKey: id) ?? [:]).values { waiter.resume() }
        logger.info("operation finished", metadata: ["operation_id": "\(id)", "status": "\(op.record.status.rawValue)",
                                                     "duration_s": "\(op.record.durationSeconds ?? 0)"])
        launchPending()
        if running == 0, pending.isEmpty {
            let store = self.store
            DispatchQueue.global(qos: .utility).async { store.truncateWAL() }
            releaseMemoryWhenIdle()
        }
    }

    // MARK: Cancel

    /// Cancels a pending or running operation and waits (briefly) for it to reach `cancelled`.
    /// Idempotent on a cancelled operation; 409 on a completed or failed one.
    public func cancel(_ id: String) async throws(ApiError) -> OperationRecord {
        guard var op = live[id] else {
            let record = try await get(id)
            if record.status == .cancelled || !record.status.isTerminal { return record }
            throw ApiError(status: 409, code: "operation_finished",
                           message: "operation '\(id)' already \(record.status.rawValue); nothing to cancel", details: ["status": record.status.rawValue])
        }
        op.cancelRequestedAt = Date()
        live[id] = op
        logger.info("cancel requested", metadata: ["operation_id": "\(id)", "status": "\(op.record.status.rawValue)"])
        if op.record.status == .pending {
            pending.removeAll { $0 == id }
            live[id] = nil
            op.record.status = .cancelled
            op.record.completedAt = RecordTime.isoNow()
            op.record.error = op.cancelReason ?? OperationError(code: "cancelled", message: "cancelled while pending")
            persist(op.record)
            for waiter in (finishWaiters.removeValue(forKey: id) ?? [:]).values { waiter.resume() }
            return op.record
        }
        op.token.cancel()
        cancelOnWorker(op.record)
        if !op.graceTimerStarted {
            op.graceTimerStarted = true
            live[id] = op
            let grace = config.cancelGraceSeconds
            Task { [weak self] in
                try? await Task.sleep(nanoseconds: UInt64(grace * 1e9))
                await self?.abandonIfStuck(id, grace: grace)
            }
        }
        await waitForEnd(id, upTo: 2_000_000_000)  // the engine stops within one chunk
        return (try? await get(id)) ?? op.record
    }

    /// Ends an operation that ignored its cancel request for `grace` seconds (code stuck in a
    /// plugin cannot be interrupted in process): `failed` with `cancel_timeout`, slot released.
    /// Its thread is left to finish or hang; whatever it reports later is ignored.
    private func abandonIfStuck(_ id: String, grace: Double) {
        guard var op = live.removeValue(forKey: id) else { return }
        if op.isRemote { remoteRunning -= 1 } else { running -= 1 }
        abandoned += 1
        op.record.progress = progress(of: op)
        op.record.status = .failed
        op.record.completedAt = RecordTime.isoNow()
        op.record.durationSeconds = RecordTime.seconds(op.record.completedAt).flatMap { end in RecordTime.seconds(op.record.startedAt).map { end - $0 } }
        let plugin = op.record.metadata.plugin.map { " (plugin \($0.name) \($0.version))" } ?? ""
        if let url = op.record.metadata.workerUrl, url.hasPrefix("unix:"), let pool = config.isolation {
            pool.kill(url)  // in a worker process: the process is ended and started again
            op.record.error = OperationError(code: "cancel_timeout", message: "did not stop within \(Self.seconds(grace)) of the cancel request while at '\(op.record.progress.currentStep)'\(plugin); its worker process was killed and started again")
        } else {
            op.record.error = OperationError(code: "cancel_timeout", message: "did not stop within \(Self.seconds(grace)) of the cancel request while at '\(op.record.progress.currentStep)'\(plugin); ended and its run slot released, its thread abandoned")
        }
        logger.error("operation abandoned after cancel timeout", metadata: ["operation_id": "\(id)", "grace_s": "\(grace)", "step": "\(op.record.progress.currentStep)"])
        persist(op.record)
        for waiter in (finishWaiters.removeValue(forKey: id) ?? [:]).values { waiter.resume() }
        launchPending()
    }

    private static func seconds(_ s: Double) -> String { s == s.rounded() ? "\(Int(s)) s" : String(format: "%.1f s", s) }

    /// Graceful shutdown: stops launching, cancels pending operations, then running ones, and
    /// waits up to `timeout` for those to stop and for every record to be written.
    public func cancelAll(timeout: Double = 10) async {
        stopping = true
        let queued = pending
        for id in queued { _ = try? await cancel(id) }
        // Remote runs go on on their workers: the next server process re-adopts them.
        for (id, op) in live where !op.isRemote || op.record.metadata.remoteOperationId == nil { _ = try? await cancel(id) }
        let deadline = Date(timeIntervalSinceNow: timeout)
        while running > 0 || !unconfirmed.isEmpty, Date() < deadline { try? await Task.sleep(nanoseconds: 10_000_000) }
    }

    public func counts() -> (running: Int, pending: Int) { (running + remoteRunning, pending.count) }

    /// Runs blocking work on a GCD thread, not on the cooperative pool.
    public static func offPool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async { continuation.resume(returning: work()) }
        }
    }
}

/// The manager as the remote executor calls back into it (set once its init is done).
final class WeakManager: @unchecked Sendable {  // written once in init, before any use
    weak var value: OperationManager?
}
