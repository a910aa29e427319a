import Foundation
import KtrdrAPI
import KtrdrCore
import KtrdrPlugins

/// Starting sweeps and walk-forwards, and resuming a sweep after a restart.
extension OperationManager {
    /// Validates a sweep synchronously (the run fields as a backtest's, the grid, the first
    /// trial through the plugin), then creates its operation.
    public nonisolated func startSweep(_ r: SweepRequest) async throws(ApiError) -> OperationRecord {
        let config = self.config
        let accepted = Self.seeded(r)
        let job = try await Self.validated { () throws(KtrdrError) in try Self.prepareSweep(accepted, config: config) }
        // Remote: trials go to workers in batches, beside this machine's threads.
        var metadata = OperationMetadata(parameters: accepted.run, mode: try mode(of: accepted.run) == "remote" ? "distributed" : "local")
        metadata.dataFile = job.dataPath
        metadata.strategySha256 = Checksum.sha256(Array(job.strategySource.utf8))
        metadata.sweep = accepted
        metadata.strategySource = job.strategySource
        return try await create(.sweep, metadata: metadata, items: job.trials.count, work: .sweep(job))
    }

    /// Validates a walk-forward synchronously (the sweep's checks, every trial's warm-up, the
    /// windows), then creates its operation.
    public nonisolated func startWalkForward(_ r: WalkForwardRequest) async throws(ApiError) -> OperationRecord {
        let config = self.config
        var seeded = r
        seeded.sweep = Self.seeded(r.sweep)
        let accepted = seeded
        let job = try await Self.validated { () throws(KtrdrError) in try Self.prepareWalkForward(accepted, config: config) }
        var metadata = OperationMetadata(parameters: accepted.sweep.run)
        metadata.dataFile = job.sweep.dataPath
        metadata.strategySha256 = Checksum.sha256(Array(job.sweep.strategySource.utf8))
        metadata.walkForward = accepted
        metadata.walkForwardWindows = job.windows.count
        metadata.strategySource = job.sweep.strategySource
        return try await create(.walkforward, metadata: metadata, items: job.runs, work: .walkForward(job))
    }

    /// Re-adopts a remote backtest (`adopt`), or queues again a sweep the previous daemon left running or pending: its stored trials are
    /// kept and only the others run, on the strategy text it was accepted with.
    public func resume(_ record: OperationRecord) {
        if record.metadata.mode == "remote" { return adopt(record) }
        guard record.operationType == .sweep, let request = record.metadata.sweep, let source = record.metadata.strategySource else { return }
        let id = record.operationId
        do throws(KtrdrError) {
            let done = (try? store.trialIndices(id)) ?? []
            let job = try Self.prepareSweep(request, source: source, done: done, config: config)
            var r = record
            r.status = .pending
            r.startedAt = nil
            r.progress.currentStep = "Resuming: \(done.count) of \(job.trials.count) trials already done"
            persist(r)
            logger.info("sweep resumed after a restart", metadata: ["operation_id": "\(id)", "trials_done": "\(done.count)", "trials": "\(job.trials.count)"])
            _ = enqueue(Live(record: r, work: .sweep(job), bridge: ProgressBridge(totalBars: job.trials.count)))
        } catch {
            var r = record
            r.status = .failed
            r.completedAt = RecordTime.isoNow()
            r.error = OperationError(code: "interrupted", message: "the daemon stopped during this sweep and it cannot resume: \(error.description)")
            persist(r)
        }
    }

    /// A random sweep without a seed gets one drawn here, and recorded: it can be run again.
    static func seeded(_ r: SweepRequest) -> SweepRequest {
        var r = r
        if r.method == "random", r.seed == nil { r.seed = UInt64.random(in: 0...UInt64(UInt32.max)) }
        return r
    }
}
