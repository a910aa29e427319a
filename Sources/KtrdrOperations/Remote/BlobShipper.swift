import Foundation
import KtrdrAPI
import KtrdrClient
import KtrdrCore
import KtrdrPlugins
import Logging

/// Makes sure a worker holds a data file: asked once (its `/health` list, then `HEAD`), sent
/// once (`PUT /api/v1/blobs/{sha256}`, checked by the worker against the name).
struct BlobShipper {
    let directory: WorkerDirectory
    let config: RemoteConfig
    let logger: Logger

    func ensure(_ path: String, sha: String, on url: String, info: WorkerInfo, for id: String) async throws(ClientError) {
        if info.blobs.contains(sha) { return }
        if let local = config.localBlobs { return try copy(path, sha: sha, into: local) }
        let client = try directory.client(url, timeout: .seconds(max(10, config.deadlineSeconds)))
        if try await !client.hasBlob(sha) { try await ship(path, sha: sha, to: url, id: id) }
        await directory.noteBlob(url, sha)
    }

    /// Local worker processes share a blob store: the file is copied in once (checked as an upload).
    private func copy(_ path: String, sha: String, into blobs: BlobStore) throws(ClientError) {
        if blobs.has(sha) { return }
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw ClientError(code: "data_not_found", message: "data file \(path) could not be read")
        }
        do throws(KtrdrError) {
            let writer = try blobs.writer(sha)
            let failure: KtrdrError? = bytes.withUnsafeBytes { raw in
                do throws(KtrdrError) { try writer.append(raw); return nil } catch { return error }
            }
            if let failure { writer.abort(); throw failure }
            try writer.finish()
        } catch { throw ClientError(code: error.code, message: error.description) }
    }

    private func ship(_ path: String, sha: String, to url: String, id: String) async throws(ClientError) {
        let t0 = Date()
        guard let bytes = FileManager.default.contents(atPath: path).map(Array.init) else {
            throw ClientError(code: "data_not_found", message: "data file \(path) could not be read to send it")
        }
        guard Checksum.sha256(bytes) == sha else { throw ClientError(code: "data_changed", message: "data file \(path) changed while being sent; retry") }
        let client = try directory.client(url, timeout: .seconds(max(30, Double(bytes.count) / 10_000_000)))
        try await client.putBlob(sha, bytes)
        logger.info("data file sent to worker", metadata: ["operation_id": "\(id)", "worker": "\(url)", "sha256": "\(sha)", "bytes": "\(bytes.count)",
                                                           "ms": "\(Int(Date().timeIntervalSince(t0) * 1000))"])
    }
}
