import Foundation
import KtrdrAPI
import KtrdrCore

/// The calls a server makes to a worker (and a worker to its server): dispatch under a lease,
/// reads that renew it, data blobs, result packages, registration.
extension AsyncDaemonClient {
    /// Header carrying a dispatch's lease on the server's reads of it.
    public static let leaseHeader = "X-Ktrdr-Lease"

    public func dispatch(_ d: DispatchRequest) async throws(ClientError) -> StartedResponse {
        try await call(.POST, "/api/v1/worker/dispatch", body: Self.encode(d), as: StartedResponse.self)
    }

    /// The operation's record; with `lease`, the read renews it (409 `lease_superseded` or
    /// `lease_expired` when the worker no longer runs it for this attempt). With `waitMs`, the
    /// answer comes as soon as the operation ends, or after that long (a long poll).
    public func operation(_ id: String, lease: String, waitMs: Int = 0) async throws(ClientError) -> OperationRecord {
        let path = "/api/v1/operations/\(Self.escaped(id))" + (waitMs > 0 ? "?wait_ms=\(waitMs)" : "")
        let (status, bytes) = try await send(.GET, path, body: nil, headers: [(Self.leaseHeader, lease)])
        guard (200..<300).contains(status) else { throw Self.failure(status, bytes) }
        do { return try KtrdrJSON.decoder().decode(Envelope<OperationRecord>.self, from: Data(bytes)).data } catch {
            throw ClientError(code: "invalid_response", message: "GET \(path): unexpected response (\(error))", status: status)
        }
    }

    public func hasBlob(_ sha256: String) async throws(ClientError) -> Bool {
        let (status, bytes) = try await send(.HEAD, "/api/v1/blobs/\(sha256)", body: nil)
        if status == 404 { return false }
        guard (200..<300).contains(status) else { throw Self.failure(status, bytes) }
        return true
    }

    public func putBlob(_ sha256: String, _ bytes: [UInt8]) async throws(ClientError) {
        let (status, body) = try await send(.PUT, "/api/v1/blobs/\(sha256)", body: bytes, contentType: "application/octet-stream")
        guard (200..<300).contains(status) else { throw Self.failure(status, body) }
    }

    /// A completed operation's result as a package (`OperationStore.importResult`), under its lease.
    public func resultPackage(_ id: String, lease: String) async throws(ClientError) -> [UInt8] {
        let (status, bytes) = try await send(.GET, "/api/v1/operations/\(Self.escaped(id))/result-package", body: nil,
                                             headers: [(Self.leaseHeader, lease)])
        guard (200..<300).contains(status) else { throw Self.failure(status, bytes) }
        return bytes
    }

    /// Runs some of a sweep's trials on the worker; answers when all are done.
    public func runTrials(_ b: TrialBatch) async throws(ClientError) -> [SweepTrial] {
        try await call(.POST, "/api/v1/worker/trials", body: Self.encode(b), as: Envelope<[SweepTrial]>.self).data
    }

    /// A worker's heartbeat to its server.
    public func register(_ info: WorkerInfo) async throws(ClientError) {
        let (status, bytes) = try await send(.POST, "/api/v1/workers/register", body: Self.encode(info))
        guard (200..<300).contains(status) else { throw Self.failure(status, bytes) }
    }
}
