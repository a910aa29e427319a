import Foundation
import KtrdrCore
import KtrdrPlugins
import Logging

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

    /// Reads a data file through the cache when there is one.
    var loadData: Backtester.DataLoader {
        guard let cache = dataCache else { return { path throws(KtrdrError) in try CSVLoader.load(path: path) } }
        return { path throws(KtrdrError) in try cache.load(path) }
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

/// Creates, runs, lists and cancels operations. Validation happens before an operation
/// exists; backtests run on their own threads (off Swift's cooperative pool, so the servers
/// stay responsive while every core computes); at most `maxConcurrent` run, the rest wait
/// `pending` in FIFO order.
public actor OperationManager {
    enum Work: Sendable {
        case backtest(PreparedBacktest)
        case training(TrainingJob)
    }

    struct Live {
        var record: OperationRecord
        let work: Work
        let bridge: ProgressBridge
        let token = CancellationToken()
        var cancelRequestedAt: Date?
    }

    public nonisolated let store: OperationStore
    public nonisolated let config: OperationsConfig
    private let logger: Logger
    private var live: [String: Live] = [:]
    /// Watchers waiting for an operation to end (woken by `finish`).
    private var finishWaiters: [String: [UUID: CheckedContinuation<Void, Never>]] = [:]
    private var pending: [String] = []
    private var running = 0
    /// Bars processed by completed runs (for /metrics).
    public private(set) var barsProcessed = 0

    public init(store: OperationStore, config: OperationsConfig, logger: Logger) {
        self.store = store
        self.config = config
        self.logger = logger
    }

    // MARK: Start

    /// Validates synchronously (off the actor: loading data can take a while), then creates
    /// the operation. Throws the API error for every check that fails; nothing is created then.
    public nonisolated func startBacktest(_ p: BacktestParameters) async throws(ApiError) -> OperationRecord {
        let config = self.config
        let prepared = try await Self.validated { () throws(KtrdrError) in try Self.prepare(p, config: config) }
        return await register(prepared, parameters: p)
    }

    /// Validates a training request synchronously (strategy, data, model plugin), then creates
    /// the operation.
    public nonisolated func startTraining(_ p: BacktestParameters) async throws(ApiError) -> OperationRecord {
        let config = self.config
        let job = try await Self.validated { () throws(KtrdrError) in try Self.prepareTraining(p, config: config) }
        return await registerTraining(job, parameters: p)
    }

    /// Runs a request's checks on a GCD thread; their failure is the API's answer.
    static func validated<T: Sendable>(_ checks: @escaping @Sendable () throws(KtrdrError) -> T) async throws(ApiError) -> T {
        let result: Result<T, ApiError> = await offPool {
            do throws(KtrdrError) { return .success(try checks()) } catch { return .failure(ApiError(error)) }
        }
        return try result.get()
    }

    private func registerTraining(_ job: TrainingJob, parameters: BacktestParameters) -> OperationRecord {
        let id = OperationRecord.newId(type: .training)
        var metadata = OperationMetadata(parameters: parameters)
        metadata.bars = job.bars.count
        metadata.dataFile = job.dataPath
        metadata.plugin = PluginUse(name: job.plugin.descriptor.name, version: job.plugin.descriptor.version,
                                    generation: job.plugin.generation, file: job.plugin.file)
        var progress = OperationProgress()
        progress.itemsTotal = job.model.epochs
        let record = OperationRecord(operationId: id, operationType: .training, status: .pending, createdAt: Clock.isoNow(),
                                     progress: progress, metadata: metadata)
        return enqueue(Live(record: record, work: .training(job), bridge: ProgressBridge(totalBars: job.model.epochs)))
    }

    private func enqueue(_ op: Live) -> OperationRecord {
        let id = op.record.operationId
        live[id] = op
        persist(op.record)
        let p = op.record.metadata.parameters
        logger.info("operation created", metadata: ["operation_id": "\(id)", "type": "\(op.record.operationType.rawValue)",
                                                    "strategy": "\(p.strategyName)", "symbol": "\(p.symbol)",
                                                    "items": "\(op.record.progress.itemsTotal)"])
        pending.append(id)
        launchPending()
        return live[id]?.record ?? op.record
    }

    private func register(_ prepared: PreparedBacktest, parameters: BacktestParameters) -> OperationRecord {
        let id = OperationRecord.newId(type: .backtesting)
        var metadata = OperationMetadata(parameters: parameters)
        metadata.bars = prepared.tradedBars
        metadata.warmupBars = prepared.first
        metadata.dataFile = prepared.dataPath
        if let s = prepared.strategy as? PluginStrategy {
            metadata.plugin = PluginUse(name: s.plugin.descriptor.name, version: s.plugin.descriptor.version,
                                        generation: s.plugin.generation, file: s.plugin.file,
                                        modelPath: s.model?.directory, modelVersion: s.model?.metadata.version)
        }
        var progress = OperationProgress()
        progress.itemsTotal = prepared.tradedBars
        let record = OperationRecord(operationId: id, operationType: .backtesting, status: .pending, createdAt: Clock.isoNow(),
                                     progress: progress, metadata: metadata)
        return enqueue(Live(record: record, work: .backtest(prepared), bridge: ProgressBridge(totalBars: prepared.tradedBars)))
    }

    private func launchPending() {
        while running < config.maxConcurrent, !pending.isEmpty {
            let id = pending.removeFirst()
            guard var op = live[id], op.record.status == .pending else { continue }
            op.record.status = .running
            op.record.startedAt = Clock.isoNow()
            op.record.progress.currentStep = "Starting"
            live[id] = op
            persist(op.record)
            running += 1
            logger.info("registered local progress bridge", metadata: ["operation_id": "\(id)", "mode": "local"])
            let thread = Thread(block: runner(id, op))
            thread.name = "\(op.record.operationType.rawValue) \(id)"
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// The body of an operation's thread: computes, stores, then reports back to the actor.
    private func runner(_ id: String, _ op: Live) -> @Sendable () -> Void {
        let bridge = op.bridge, token = op.token, store = self.store, logger = self.logger, models = config.strategies.models
        let pace = op.record.metadata.parameters.paceBarsPerSecond
        let work = op.work
        return { [weak self] in
            let t0 = Date()
            var outcome: Result<Outcome, KtrdrError>
            var saveError: String?
            switch work {
            case let .backtest(prepared):
                let plugin = (prepared.strategy as? PluginStrategy)?.plugin
                plugin?.acquire(id)
                defer { plugin?.release(id) }
                let sink = pace.map { Pacer(rate: $0, bridge: bridge).sink } ?? bridge.sink
                do throws(KtrdrError) { outcome = .success(.backtest(try Backtester.run(prepared, progress: sink, cancel: token))) } catch {
                    outcome = .failure(error)
                }
                let t1 = Date()
                if case let .success(.backtest(result)) = outcome {
                    do { try store.saveResult(id, result) } catch { saveError = "\(error)" }
                    logger.info("backtest computed and stored", metadata: [
                        "operation_id": "\(id)", "engine_ms": "\(Int(t1.timeIntervalSince(t0) * 1000))",
                        "store_ms": "\(Int(Date().timeIntervalSince(t1) * 1000))"])
                }
            case let .training(job):
                job.plugin.acquire(id)
                defer { job.plugin.release(id) }
                do throws(KtrdrError) {
                    outcome = .success(.training(try Trainer.run(job, models: models) { epoch in
                        bridge.write(epoch)
                        return !token.isCancelled
                    }))
                } catch { outcome = .failure(error) }
            }
            let finishedAt = Date()
            let result = outcome
            Task { await self?.finish(id, result, saveError: saveError, at: finishedAt) }
            store.checkpoint()  // after the completion is reported
        }
    }

    enum Outcome: Sendable {
        case backtest(BacktestResult)
        case training(TrainingOutcome)
    }

    private func finish(_ id: String, _ outcome: Result<Outcome, KtrdrError>, saveError: String?, at finishedAt: Date) {
        guard var op = live.removeValue(forKey: id) else { return }
        running -= 1
        op.record.progress = progress(of: op)
        if case .training = op.work { op.record.metadata.epochs = op.bridge.epochs }
        op.record.completedAt = Clock.iso(finishedAt)
        op.record.durationSeconds = Clock.seconds(op.record.completedAt).flatMap { end in Clock.seconds(op.record.startedAt).map { end - $0 } }
        switch outcome {
        case let .success(.training(result)):
            op.record.status = .completed
            op.record.metadata.trainingResult = result
            op.record.progress.percentage = 100
            op.record.progress.currentStep = "Completed: model v\(result.version) at \(result.modelPath)"
            logger.info("model trained", metadata: ["operation_id": "\(id)", "model": "\(result.modelPath)",
                                                    "val_accuracy": "\(result.metadata.training.valAccuracy)"])
        case let .success(.backtest(result)):
            if let saveError {
                op.record.status = .failed
                op.record.error = OperationError(code: "internal_error", message: "result could not be stored: \(saveError)")
                logger.error("result not stored", metadata: ["operation_id": "\(id)", "error": "\(saveError)"])
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
            op.record.error = OperationError(code: "cancelled", message: "cancelled by request")
            op.record.progress.currentStep = "Cancelled at " + op.record.progress.currentStep
            let ms = op.cancelRequestedAt.map { String(format: "%.1f", finishedAt.timeIntervalSince($0) * 1000) } ?? "?"
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
    }

    // MARK: Read

    public func get(_ id: String) throws(ApiError) -> OperationRecord {
        guard OperationRecord.isValidId(id) else { throw .notFound("unknown operation id '\(id.prefix(80))'", code: "operation_not_found") }
        if let op = live[id] {
            var r = op.record
            r.progress = progress(of: op)
            return r
        }
        do {
            if let r = try store.record(id) { return r }
        } catch { throw ApiError(status: 500, code: "internal_error", message: "store: \(error)") }
        throw .notFound("operation '\(id)' not found", code: "operation_not_found")
    }

    public func list(status: OperationStatus?, type: OperationType?, activeOnly: Bool, limit: Int, offset: Int) throws(ApiError) -> (records: [OperationRecord], total: Int) {
        do {
            var (records, total) = try store.list(status: status, type: type, activeOnly: activeOnly, limit: limit, offset: offset)
            for i in records.indices { if let op = live[records[i].operationId] { records[i] = op.record; records[i].progress = progress(of: op) } }
            return (records, total)
        } catch { throw ApiError(status: 500, code: "internal_error", message: "store: \(error)") }
    }

    /// Sampled bar history from `cursor` on.
    public func metrics(_ id: String, cursor: Int) throws(ApiError) -> (samples: [BarSample], next: Int, status: OperationStatus) {
        let record = try get(id)
        if let op = live[id] {
            let (samples, next) = op.bridge.samples(from: cursor)
            return (samples, next, record.status)
        }
        return ([], cursor, record.status)
    }

    public func result(_ id: String) throws(ApiError) -> BacktestResult {
        let record = try get(id)
        guard record.status == .completed else {
            throw ApiError(status: 409, code: "not_completed", message: "operation '\(id)' is \(record.status.rawValue); results exist only for completed operations")
        }
        do {
            if let r = try store.result(id) { return r }
        } catch { throw ApiError(status: 500, code: "internal_error", message: "store: \(error)") }
        throw .notFound("no stored result for operation '\(id)'", code: "result_not_found")
    }

    /// The result as ready-made JSON (see `OperationStore.resultJSON`).
    public func resultJSON(_ id: String, includeCurve: Bool) throws(ApiError) -> [UInt8] {
        let record = try get(id)
        guard record.status == .completed else {
            throw ApiError(status: 409, code: "not_completed", message: "operation '\(id)' is \(record.status.rawValue); results exist only for completed operations")
        }
        do {
            if let r = try store.resultJSON(id, includeCurve: includeCurve) { return r }
        } catch { throw ApiError(status: 500, code: "internal_error", message: "store: \(error)") }
        throw .notFound("no stored result for operation '\(id)'", code: "result_not_found")
    }

    /// Sleeps up to `nanoseconds`, returning early when the operation ends: watchers poll
    /// progress at their coalescing interval but see the terminal state at once.
    public nonisolated func waitForEnd(_ id: String, upTo nanoseconds: UInt64) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(nanoseconds: nanoseconds) }
            group.addTask { await self.untilFinished(id) }
            await group.next()
            group.cancelAll()
        }
    }

    private func untilFinished(_ id: String) async {
        guard live[id] != nil else { return }
        let key = UUID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                if Task.isCancelled || live[id] == nil { c.resume() } else { finishWaiters[id, default: [:]][key] = c }
            }
        } onCancel: {
            Task { await self.dropWaiter(id, key) }
        }
    }

    private func dropWaiter(_ id: String, _ key: UUID) {
        finishWaiters[id]?.removeValue(forKey: key)?.resume()
    }

    /// Latest progress version of a live operation (nil when not live): lets watchers send only changes.
    public func version(_ id: String) -> UInt64? { live[id]?.bridge.latest.version }

    public func counts() -> (running: Int, pending: Int) { (running, pending.count) }

    // MARK: Cancel

    /// Cancels a pending or running operation and waits (briefly) for it to reach `cancelled`.
    /// Idempotent on a cancelled operation; 409 on a completed or failed one.
    public func cancel(_ id: String) async throws(ApiError) -> OperationRecord {
        let record = try get(id)
        if record.status == .cancelled { return record }
        if record.status.isTerminal {
            throw ApiError(status: 409, code: "operation_finished",
                           message: "operation '\(id)' already \(record.status.rawValue); nothing to cancel", details: ["status": record.status.rawValue])
        }
        guard var op = live[id] else { return record }
        op.cancelRequestedAt = Date()
        live[id] = op
        logger.info("cancel requested", metadata: ["operation_id": "\(id)", "status": "\(op.record.status.rawValue)"])
        if op.record.status == .pending {
            pending.removeAll { $0 == id }
            live[id] = nil
            op.record.status = .cancelled
            op.record.completedAt = Clock.isoNow()
            op.record.error = OperationError(code: "cancelled", message: "cancelled while pending")
            persist(op.record)
            return op.record
        }
        op.token.cancel()
        await waitForEnd(id, upTo: 2_000_000_000)  // the engine stops within one chunk
        return (try? get(id)) ?? record
    }

    /// Cancels everything (graceful shutdown) and waits up to `timeout` for running ones to stop.
    public func cancelAll(timeout: Double = 10) async {
        for id in Array(live.keys) { _ = try? await cancel(id) }
        let deadline = Date(timeIntervalSinceNow: timeout)
        while running > 0, Date() < deadline { try? await Task.sleep(nanoseconds: 10_000_000) }
    }

    // MARK: Helpers

    private func persist(_ record: OperationRecord) {
        do { try store.save(record) } catch {
            logger.error("could not persist operation", metadata: ["operation_id": "\(record.operationId)", "error": "\(error)"])
        }
    }

    /// Runs blocking work on a GCD thread, not on the cooperative pool.
    static func offPool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async { continuation.resume(returning: work()) }
        }
    }
}
