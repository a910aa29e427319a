import Foundation
import KtrdrAPI
import KtrdrCore
import KtrdrPlugins

/// The worker side of dispatch: a server's backtest runs here as an ordinary local operation,
/// on the strategy text it sent and the data blob it pushed, under a lease that the server's
/// reads renew. A lease not renewed for its duration (the server died, or the link is cut)
/// stops the run by itself: `cancelled` with code `lease_expired`.
extension OperationManager {
    public func startDispatched(_ d: DispatchRequest) async throws(ApiError) -> OperationRecord {
        guard let blobs = config.blobs else {
            throw ApiError(status: 404, code: "not_a_worker", message: "this daemon is not a worker (start it with --role worker)")
        }
        guard d.attempt >= 1, !d.lease.isEmpty, d.lease.count <= 128, d.leaseSeconds >= 0.5, d.leaseSeconds <= 3600 else {
            throw .badRequest("dispatch: attempt >= 1, a lease of 1-128 characters and lease_seconds in [0.5, 3600] expected")
        }
        guard blobs.has(d.dataSha256) else {
            throw ApiError(status: 409, code: "blob_missing", message: "data blob \(d.dataSha256.prefix(80)) is not on this worker: PUT /api/v1/blobs/{sha256} first",
                           details: ["sha256": String(d.dataSha256.prefix(80))])
        }
        if let wanted = d.plugin {
            let loaded = config.strategies.plugins.list().plugins.filter { $0.name == wanted.name }.map(\.version)
            guard loaded.contains(wanted.version) else {
                throw ApiError(status: 409, code: "plugin_mismatch",
                               message: "plugin \(wanted.name) \(wanted.version) is not loaded on this worker (loaded: \(loaded.isEmpty ? "none" : loaded.joined(separator: ", ")))")
            }
        }
        var local = d.run
        local.mode = "local"
        let run = local, config = self.config
        let path = blobs.path(d.dataSha256)
        let job = try await Self.validated { () throws(KtrdrError) in try Self.prepare(run, config: config, source: d.strategySource, dataPath: path) }
        var metadata = OperationMetadata(parameters: d.run, mode: "dispatched")
        metadata.bars = job.prepared?.tradedBars
        metadata.warmupBars = job.prepared?.first
        metadata.dataFile = path
        metadata.strategySha256 = job.spec.strategySha256
        metadata.params = job.request.strategy.params
        metadata.serverOperationId = String(d.serverOperationId.prefix(64))
        metadata.attempt = d.attempt
        metadata.remoteLease = d.lease
        if let s = job.strategy as? PluginStrategy {
            metadata.plugin = PluginUse(name: s.plugin.descriptor.name, version: s.plugin.descriptor.version, generation: s.plugin.generation, file: s.plugin.file)
        }
        let record = try await create(.backtesting, metadata: metadata, items: job.prepared?.tradedBars ?? 0, work: .backtest(job))
        grantLease(record.operationId, token: d.lease, seconds: d.leaseSeconds)
        return record
    }

    private func grantLease(_ id: String, token: String, seconds: Double) {
        leases[id] = Lease(token: token, seconds: seconds, lastRead: Date())
        guard leaseWatch == nil else { return }
        leaseWatch = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(250))
                await self?.expireLeases()
            }
        }
    }

    /// A server's read under `token`: renews the lease. Throws 409 when the operation runs
    /// under another lease or its lease has lapsed: that attempt is over for the server.
    public func renewLease(_ id: String, token: String) throws(ApiError) {
        guard var lease = leases[id] else {
            if let record = live[id]?.record ?? (try? store.record(id)), record.metadata.mode == "dispatched" {
                guard record.metadata.remoteLease == token else {
                    throw ApiError(status: 409, code: "lease_superseded", message: "operation \(id) ran under another lease (a superseded attempt)")
                }
                if record.error?.code == "lease_expired" {
                    throw ApiError(status: 409, code: "lease_expired", message: "operation \(id): its lease lapsed; \(record.error!.message)")
                }
                return  // ended normally: its record and result stay readable
            }
            throw ApiError(status: 409, code: "lease_superseded", message: "operation \(id) was not dispatched under a lease")
        }
        guard lease.token == token else {
            throw ApiError(status: 409, code: "lease_superseded", message: "operation \(id) runs under another lease (a superseded attempt)")
        }
        lease.lastRead = Date()
        leases[id] = lease
    }

    private func expireLeases() async {
        let now = Date()
        for (id, lease) in leases where now.timeIntervalSince(lease.lastRead) > lease.seconds {
            leases[id] = nil
            guard var op = live[id] else { continue }
            let why = "no read from the server for \(String(format: "%.1f", now.timeIntervalSince(lease.lastRead))) s (lease \(lease.seconds) s): stopped by the worker"
            op.cancelReason = OperationError(code: "lease_expired", message: why)
            live[id] = op
            logger.warning("lease expired; stopping the dispatched run", metadata: ["operation_id": "\(id)", "server_operation_id": "\(op.record.metadata.serverOperationId ?? "?")"])
            _ = try? await cancel(id)
        }
    }
}

/// The server side of reads: a read of a remote operation goes to its worker when the
/// mirrored progress is older than `maxAge` (a short cache over the background polling).
extension OperationManager {
    public nonisolated func refreshRemote(_ id: String, maxAge: Double = 0.02) async {
        guard let (a, bridge) = await remoteTarget(id), bridge.mirrorAge > maxAge,
              let workers = a.workerUrl.hasPrefix("unix:") ? config.isolation?.directory : workers,
              let client = try? workers.client(a.workerUrl, timeout: .milliseconds(500)),
              let record = try? await client.operation(a.remoteOperationId, lease: a.lease) else { return }
        bridge.mirror(record.progress)
    }

    func remoteTarget(_ id: String) -> (RemoteAssignment, ProgressBridge)? {
        guard let op = live[id], op.record.status == .running, let m = Optional(op.record.metadata),
              let url = m.workerUrl, let rid = m.remoteOperationId, let lease = m.remoteLease else { return nil }
        return (RemoteAssignment(workerUrl: url, remoteOperationId: rid, attempt: m.attempt ?? 1, lease: lease), op.bridge)
    }
}
