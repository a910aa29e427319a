import Foundation
import KtrdrAPI
import KtrdrCore

/// What the scheduler does for remote operations: the mode a request runs in, where each
/// attempt runs (recorded before it is followed), and re-adoption after a restart.
extension OperationManager {
    /// `local` or `remote`: the request's, else the configured default.
    nonisolated func mode(of p: StartRequest) throws(ApiError) -> String {
        let mode = p.mode ?? (config.remote?.remoteByDefault == true ? "remote" : "local")
        guard mode == "local" || config.remote != nil else {
            throw ApiError(status: 400, code: "invalid_request", message: "mode 'remote': this server has no workers (set REMOTE_BACKTEST_SERVICE_URL or --worker, or let workers register with --server)")
        }
        if mode == "remote", p.modelPath != nil {
            throw ApiError(status: 400, code: "invalid_request", message: "mode 'remote': model strategies run locally for now (model files are not shipped to workers); use mode 'local'")
        }
        return mode
    }

    /// Records where a remote attempt runs, durably, before it is followed.
    func assigned(_ id: String, _ a: RemoteAssignment) async {
        guard var op = live[id] else { return }
        op.record.metadata.workerUrl = a.workerUrl
        op.record.metadata.remoteOperationId = a.remoteOperationId
        op.record.metadata.attempt = a.attempt
        op.record.metadata.remoteLease = a.lease
        live[id] = op
        persist(op.record)
    }

    /// A remote operation left running by the previous server process: followed again on its worker.
    public func adopt(_ record: OperationRecord) {
        let m = record.metadata
        guard let url = m.workerUrl, let remoteId = m.remoteOperationId, let lease = m.remoteLease, remoteExecutor != nil else {
            var r = record
            r.status = .failed
            r.completedAt = RecordTime.isoNow()
            r.error = OperationError(code: "interrupted", message: remoteExecutor == nil
                ? "the server restarted without remote workers configured while this remote operation ran on \(m.workerUrl ?? "a worker")"
                : "the server stopped before this remote operation was dispatched")
            persist(r)
            return
        }
        let a = RemoteAssignment(workerUrl: url, remoteOperationId: remoteId, attempt: m.attempt ?? 1, lease: lease)
        let op = Live(record: record, work: .adopted(a, record), bridge: ProgressBridge(totalBars: record.progress.itemsTotal))
        live[record.operationId] = op
        logger.info("remote operation re-adopted", metadata: ["operation_id": "\(record.operationId)", "worker": "\(url)", "remote_operation_id": "\(remoteId)"])
        launch(record.operationId, op)
    }

    /// A cancel goes to the worker at once (not at the next read of the run): the worker's
    /// long poll then answers as soon as the run has stopped.
    func cancelOnWorker(_ record: OperationRecord) {
        guard let url = record.metadata.workerUrl, let rid = record.metadata.remoteOperationId,
              let directory = url.hasPrefix("unix:") ? config.isolation?.directory : workers,
              let client = try? directory.client(url) else { return }
        Task { _ = try? await client.cancel(rid) }
    }
}
