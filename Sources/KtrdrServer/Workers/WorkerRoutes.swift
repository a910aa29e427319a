import Foundation
import HTTPTypes
import Hummingbird
import KtrdrAPI
import KtrdrClient
import KtrdrCore
import KtrdrOperations

/// Routes of the worker protocol: on a worker, dispatch, data blobs and result packages; on a
/// server, worker registration and the list of workers.
enum WorkerRoutes {
    /// Largest data file a server may push (the file is streamed to disk, never held whole).
    static let maxBlobBytes = 16 << 30
    static let leaseHeader = HTTPField.Name(AsyncDaemonClient.leaseHeader)!

    /// A blob as stored.
    struct BlobStored: Codable, Sendable {
        var sha256: String
        var bytes: Int
        var received: Bool
    }

    static func add<Context: RequestContext>(to api: RouterGroup<Context>, service: ApiService, workerToken: String?) {
        api.post("worker/dispatch") { request, _ in
            await HTTPServer.respond {
                let body = try await HTTPServer.collect(request)
                return try await service.dispatch(body)
            }
        }
        api.post("worker/trials") { request, _ in
            await HTTPServer.respond {
                let body = try await HTTPServer.collect(request, limit: 16 << 20)
                let batch: TrialBatch = try service.decode(TrialBatch.self, from: body)
                return Envelope(data: try await service.manager.runTrialBatch(batch))
            }
        }
        api.head("blobs/:sha") { _, context in
            await HTTPServer.respond { () async throws(ApiError) -> BlobStored in
                let sha = context.parameters.get("sha") ?? ""
                let blobs = try service.blobStore()
                guard blobs.has(sha) else { throw ApiError(status: 404, code: "not_found", message: "no blob \(sha.prefix(80))") }
                return BlobStored(sha256: sha, bytes: size(blobs.path(sha)), received: false)
            }
        }
        api.put("blobs/:sha") { request, context in
            await HTTPServer.respond { try await receive(request, sha: context.parameters.get("sha") ?? "", service: service) }
        }
        api.get("operations/:id/result-package") { request, context in
            do throws(ApiError) {
                let bytes = try await service.resultPackage(context.parameters.get("id") ?? "", lease: request.headers[leaseHeader])
                return Response(status: .ok, headers: [.contentType: "application/octet-stream"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
            } catch { return HTTPServer.errorResponse(error) }
        }
        api.post("workers/register") { request, _ in
            await HTTPServer.respond {
                guard let workerToken, !workerToken.isEmpty else {
                    throw ApiError(status: 403, code: "registration_disabled", message: "this server accepts no worker registrations: set KTRDR_WORKER_TOKEN on server and workers")
                }
                guard BearerTokenMiddleware<Context>.authorized(request.headers[.authorization], token: workerToken) else {
                    throw ApiError(status: 401, code: "unauthorized", message: "missing or wrong worker token")
                }
                return Envelope(data: try await service.register(try await HTTPServer.collect(request)))
            }
        }
        api.getAndHead("workers") { _, _ in HTTPServer.json(Envelope(data: await service.workers())) }
    }

    /// Streams an upload to a temporary file while hashing it; kept only if the digest matches.
    static func receive(_ request: Request, sha: String, service: ApiService) async throws -> BlobStored {
        let blobs = try service.blobStore()
        if blobs.has(sha) { return BlobStored(sha256: sha, bytes: size(blobs.path(sha)), received: false) }
        let writer: BlobWriter
        do { writer = try blobs.writer(sha) } catch { throw ApiError(error) }
        do {
            for try await buffer in request.body {
                guard writer.bytes + buffer.readableBytes <= maxBlobBytes else {
                    throw ApiError(status: 413, code: "payload_too_large", message: "blob over \(maxBlobBytes >> 30) GiB")
                }
                let failure: KtrdrError? = buffer.withUnsafeReadableBytes { chunk in
                    do throws(KtrdrError) { try writer.append(chunk); return nil } catch { return error }
                }
                if let failure { throw ApiError(failure) }
            }
            do { try writer.finish() } catch { throw ApiError(error) }
        } catch {
            writer.abort()
            throw error
        }
        return BlobStored(sha256: sha, bytes: writer.bytes, received: true)
    }

    static func size(_ path: String) -> Int {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : 0
    }
}
