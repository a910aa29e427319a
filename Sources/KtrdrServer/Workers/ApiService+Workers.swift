import Foundation
import KtrdrAPI
import KtrdrClient
import KtrdrCore
import KtrdrOperations
import KtrdrPlugins

/// The worker protocol on both sides: what a worker says of itself and accepts from servers
/// (dispatches, data blobs, result packages under a lease), and what a server accepts from
/// workers (registration heartbeats).
extension ApiService {
    /// This worker as servers see it.
    public func workerInfo() async -> WorkerInfo {
        let (running, pending) = await manager.counts()
        let plugins = manager.config.strategies.plugins.list().plugins.map { PluginRef(name: $0.name, version: $0.version) }
        return WorkerInfo(url: advertisedURL ?? "", version: version, capacity: manager.config.maxConcurrent, running: running, pending: pending,
                          plugins: Array(Set(plugins)).sorted { ($0.name, $0.version) < ($1.name, $1.version) },
                          blobs: manager.config.blobs?.list() ?? [], instance: instance)
    }

    /// `POST /api/v1/worker/dispatch`.
    public func dispatch(_ body: Data) async throws(ApiError) -> StartedResponse {
        _ = try blobStore()  // a server is no worker: 404 before the body is read
        let d: DispatchRequest = try decode(DispatchRequest.self, from: body)
        let record = try await manager.startDispatched(d)
        return StartedResponse(operationId: record.operationId, status: "started",
                               message: "backtest of \(d.run.strategyName) on \(d.run.symbol) \(d.run.timeframe) dispatched by \(d.serverOperationId.prefix(64)) (attempt \(d.attempt))",
                               symbol: d.run.symbol, timeframe: d.run.timeframe, mode: record.metadata.mode, data: record)
    }

    /// The blob store of a worker; 404 on a server.
    public func blobStore() throws(ApiError) -> BlobStore {
        guard let blobs = manager.config.blobs else { throw ApiError(status: 404, code: "not_a_worker", message: "this daemon is not a worker (start it with --role worker)") }
        return blobs
    }

    /// A dispatched operation's result package; with a lease, only for that attempt.
    public func resultPackage(_ id: String, lease: String?) async throws(ApiError) -> [UInt8] {
        if let lease { try await manager.renewLease(id, token: lease) }
        let record = try await manager.get(id)
        guard record.status == .completed else {
            throw ApiError(status: 409, code: "not_completed", message: "operation \(id) is \(record.status.rawValue); it has no result")
        }
        let store = manager.store
        let package: Result<[UInt8]?, ApiError> = await OperationManager.offPool {
            do { return .success(try store.resultPackage(id)) } catch { return .failure(.storeUnavailable(error)) }
        }
        guard let bytes = try package.get() else { throw ApiError(status: 404, code: "not_found", message: "no result stored for \(id)") }
        return bytes
    }

    /// `POST /api/v1/workers/register`: a worker's heartbeat (token checked by the route).
    public func register(_ body: Data) async throws(ApiError) -> [WorkerStatus] {
        guard let workers = manager.workers else {
            throw ApiError(status: 404, code: "no_remote", message: "this server does not hand work to workers (start it with --worker URL or REMOTE_BACKTEST_SERVICE_URL, or --accept-workers)")
        }
        let info: WorkerInfo = try decode(WorkerInfo.self, from: body)
        guard let url = URL(string: info.url), url.scheme == "http", url.host != nil else {
            throw .badRequest("url: expected http://host:port the server can reach, got '\(info.url.prefix(200))'")
        }
        await workers.register(info)
        return await workers.statuses()
    }

    /// `GET /api/v1/workers`.
    public func workers() async -> [WorkerStatus] { await manager.workers?.statuses() ?? [] }
}
