import Foundation
import Hummingbird
import HummingbirdCore
import KtrdrAPI
import KtrdrCore
import KtrdrOperations
import Logging

/// The REST API (SYSTEM.md §3) on Hummingbird: thin routes over `ApiService`, the
/// `{success, data}` / `{success: false, error}` envelope, stable error codes.
public enum HTTPServer {
    /// Largest accepted request body.
    public static let maxBody = 64 * 1024

    /// `token` guards every route but /health (on a worker: the worker token), or with
    /// `openReads` (the loopback default, the daemon's own per-home token) only the mutating
    /// ones; `workerToken` is what a server requires of workers registering.
    public static func makeApplication(service: ApiService, metrics: DaemonMetrics, host: String, port: Int, token: String?,
                                       openReads: Bool = false, workerToken: String? = nil, socketPath: String? = nil,
                                       logger: Logger) -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: TimingMiddleware(metrics: metrics))
        router.add(middleware: RouteFallbackMiddleware())
        if let token, !token.isEmpty {
            router.add(middleware: BearerTokenMiddleware(token: token, exempt: service.role == "server" ? ["/api/v1/workers/register"] : [],
                                                         openReads: openReads))
        }

        router.getAndHead("/health") { _, _ in json(await service.health()) }
        router.getAndHead("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: .init(byteBuffer: ByteBuffer(string: await metrics.render(manager: service.manager))))
        }
        router.getAndHead("/api/v1/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }
        let api = router.group("api/v1")
        api.post("backtests/start") { request, _ in
            await respond {
                let body = try await collect(request)
                return try await service.startBacktest(body)
            }
        }
        api.post("sweeps/start") { request, _ in
            await respond {
                let body = try await collect(request)
                return try await service.startSweep(body)
            }
        }
        api.post("walkforwards/start") { request, _ in
            await respond {
                let body = try await collect(request)
                return try await service.startWalkForward(body)
            }
        }
        api.getAndHead("operations") { request, _ in
            await respond {
                let q = request.uri.queryParameters
                let limit = try intParameter(q.get("limit"), name: "limit") ?? 100
                let offset = try intParameter(q.get("offset"), name: "offset") ?? 0
                let activeOnly = try boolParameter(q.get("active_only"), name: "active_only") ?? false
                return Envelope(data: try await service.list(status: q.get("status"), type: q.get("operation_type"),
                                                             activeOnly: activeOnly, parentId: q.get("parent_id"), limit: limit, offset: offset))
            }
        }
        api.getAndHead("operations/:id") { request, context in
            await respondJSON {
                let id = context.parameters.get("id") ?? ""
                // A server following a dispatched run renews its lease with each read.
                if let lease = request.headers[WorkerRoutes.leaseHeader] { try await service.manager.renewLease(id, token: lease) }
                // A long poll: answer as soon as the operation ends, or after wait_ms.
                if let wait = try intParameter(request.uri.queryParameters.get("wait_ms"), name: "wait_ms") {
                    guard (0...5000).contains(wait) else { throw ApiError.badRequest("wait_ms: expected 0 to 5000, got \(wait)") }
                    await service.manager.waitForEnd(id, upTo: UInt64(wait) * 1_000_000)
                }
                return try await service.operationJSON(id)
            }
        }
        api.delete("operations/:id") { _, context in
            await respond { Envelope(data: try await service.cancel(context.parameters.get("id") ?? "")) }
        }
        api.getAndHead("operations/:id/metrics") { request, context in
            await respond {
                let cursor = try intParameter(request.uri.queryParameters.get("cursor"), name: "cursor") ?? 0
                guard cursor >= 0 else { throw ApiError.badRequest("cursor: must be >= 0, got \(cursor)") }
                return Envelope(data: try await service.metrics(context.parameters.get("id") ?? "", cursor: cursor))
            }
        }
        api.getAndHead("operations/:id/results") { request, context in
            await respondJSON {
                let curve = try boolParameter(request.uri.queryParameters.get("equity_curve"), name: "equity_curve") ?? true
                return try await service.resultJSON(context.parameters.get("id") ?? "", includeCurve: curve)
            }
        }
        api.getAndHead("health") { _, _ in json(Envelope(data: await service.health())) }
        api.getAndHead("strategies") { _, _ in json(Envelope(data: service.strategies())) }
        api.post("trainings/start") { request, _ in
            await respond {
                let body = try await collect(request)
                return try await service.startTraining(body)
            }
        }
        api.getAndHead("models") { _, _ in json(Envelope(data: service.models())) }
        api.getAndHead("plugins") { _, _ in json(Envelope(data: service.plugins())) }
        // Loading code is an admin action: only with a token, or on loopback (the default bind).
        api.post("plugins/reload") { _, _ in json(Envelope(data: service.reloadPlugins())) }
        WorkerRoutes.add(to: api, service: service, workerToken: workerToken)

        let address: BindAddress = socketPath.map { .unixDomainSocket(path: $0) } ?? .hostname(host, port: port)
        let server = HTTPServerBuilder { responder in ConnectionCloseChannel(http1: HTTP1Channel(responder: responder)) }
        return Application(router: router, server: server, configuration: .init(address: address, serverName: "ktrdrd"),
                           logger: logger)
    }

    static func collect(_ request: Request, limit: Int = maxBody) async throws(ApiError) -> Data {
        do {
            var buffer = try await request.body.collect(upTo: limit)
            return buffer.readData(length: buffer.readableBytes) ?? Data()
        } catch {
            throw ApiError(status: 413, code: "payload_too_large", message: "request body over \(limit) bytes")
        }
    }

    static func intParameter(_ text: String?, name: String) throws(ApiError) -> Int? {
        guard let text else { return nil }
        guard let v = Int(text) else { throw .badRequest("\(name): expected an integer, got '\(text.prefix(40))'") }
        return v
    }

    static func boolParameter(_ text: String?, name: String) throws(ApiError) -> Bool? {
        guard let text else { return nil }
        switch text.lowercased() {
        case "true", "1": return true
        case "false", "0": return false
        default: throw .badRequest("\(name): expected true or false, got '\(text.prefix(40))'")
        }
    }

    /// Runs a handler that makes its JSON itself, and wraps it in the `{success, data}` envelope.
    static func respondJSON(_ body: () async throws -> [UInt8]) async -> Response {
        do {
            let json = try await body()
            var buffer = ByteBuffer()
            buffer.reserveCapacity(json.count + 32)
            buffer.writeString("{\"success\":true,\"data\":")
            buffer.writeBytes(json)
            buffer.writeString("}")
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: buffer))
        } catch let error as ApiError { return errorResponse(error) } catch {
            return errorResponse(ApiError(status: 500, code: "internal_error", message: "\(error)"))
        }
    }

    /// Runs a handler and turns its value or `ApiError` into a JSON response.
    static func respond<T: Encodable>(_ body: () async throws -> T) async -> Response {
        do { return json(try await body()) } catch let error as ApiError { return errorResponse(error) } catch {
            return errorResponse(ApiError(status: 500, code: "internal_error", message: "\(error)"))
        }
    }

    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        do {
            let data = try KtrdrJSON.encoder().encode(value)
            return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(data: data)))
        } catch {
            return errorResponse(ApiError(status: 500, code: "internal_error", message: "response encoding failed: \(error)"))
        }
    }

    static func errorResponse(_ error: ApiError) -> Response {
        let data = (try? KtrdrJSON.encoder().encode(ErrorEnvelope(error))) ?? Data("{\"success\":false}".utf8)
        return Response(status: .init(code: error.status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(data: data)))
    }
}

/// `{success: false, error: {code, message, details}}`.
public struct ErrorEnvelope: Encodable {
    public struct Body: Encodable {
        var code: String
        var message: String
        var details: [String: String]?
        var problems: [Problem]?
        /// The HTTP status of the error; sent on the control socket only (HTTP has its own).
        var status: Int?
    }
    public struct Problem: Encodable {
        var path: String
        var line: Int?
        var message: String
    }
    public var success = false
    public var error: Body

    public init(_ e: ApiError) {
        error = Body(code: e.code, message: e.message, details: e.details,
                     problems: e.problems?.map { Problem(path: $0.path, line: $0.line, message: $0.message) })
    }
}

/// Records every request's latency for /metrics.
struct TimingMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: DaemonMetrics
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var status = 500
        defer {
            let d = ContinuousClock.now - start
            metrics.observeRequest(method: request.method.rawValue, path: request.uri.path, status: status,
                                   seconds: Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18)
        }
        do {
            let response = try await next(request, context)
            status = response.status.code
            return response
        } catch let error as HTTPResponseError {
            status = error.status.code
            throw error
        }
    }
}

/// Requires `Authorization: Bearer <token>` on every route but /health, or, with
/// `openReads`, on every call but GET and HEAD.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String
    /// Paths that check a token of their own (worker registration).
    var exempt: Set<String> = []
    var openReads = false

    /// `Bearer <token>` (the scheme is case-insensitive, RFC 7235), compared in constant time.
    static func authorized(_ header: String?, token: String) -> Bool {
        guard let header, header.count > 7, header.prefix(7).lowercased() == "bearer " else { return false }
        let given = Array(header.dropFirst(7).drop { $0 == " " }.utf8), wanted = Array(token.utf8)
        var difference = UInt8(truncatingIfNeeded: given.count ^ wanted.count)
        for i in 0..<wanted.count { difference |= wanted[i] ^ (i < given.count ? given[i] : 0) }
        return difference == 0 && !wanted.isEmpty
    }
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let read = request.method == .get || request.method == .head
        if request.uri.path == "/health" || request.uri.path == "/api/v1/health" || exempt.contains(request.uri.path) || openReads && read
            || Self.authorized(request.headers[.authorization], token: token) {
            return try await next(request, context)
        }
        return HTTPServer.errorResponse(ApiError(status: 401, code: "unauthorized", message: "missing or wrong bearer token"))
    }
}
