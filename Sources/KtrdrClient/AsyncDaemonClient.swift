import Foundation
import KtrdrAPI
import KtrdrCore
import NIOCore
import NIOHTTP1
import NIOPosix

/// The REST API from async code, over SwiftNIO (no thread blocks while waiting): what the
/// daemon uses to talk to workers, and what any Swift program can embed. One connection per
/// call; every call has a deadline; errors come back as `ClientError` with the server's code
/// and status.
public struct AsyncDaemonClient: Sendable {
    public let host: String
    public let port: Int
    /// Set for a `unix:/path` URL: the Unix socket the HTTP server listens on.
    public let socketPath: String?
    /// Path prefix of the API (from the URL; usually empty).
    public let basePath: String
    let token: String?
    let group: any EventLoopGroup
    /// Whole-call deadline.
    public var timeout: Duration = .seconds(30)
    /// Kept-alive connections to reuse (nil: one connection per call, closed after it).
    public var pool: ConnectionPool?

    public init(url: String, token: String? = nil, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) throws(ClientError) {
        if url.hasPrefix("unix:/") {  // HTTP over a Unix socket (a daemon's local worker processes)
            self.socketPath = String(url.dropFirst(5))
            (self.host, self.port, self.basePath, self.token, self.group) = ("localhost", 0, "", token, group)
            return
        }
        self.socketPath = nil
        guard let u = URL(string: url), let host = u.host, !host.isEmpty else {
            throw ClientError(code: "bad_url", message: "expected http://host:port, got '\(url.prefix(200))'")
        }
        guard u.scheme == "http" else {
            throw ClientError(code: "bad_url", message: "\(url): only http:// is supported (put TLS in front with a proxy)")
        }
        self.host = host
        self.port = u.port ?? 80
        self.basePath = u.path.hasSuffix("/") ? String(u.path.dropLast()) : u.path
        self.token = token
        self.group = group
    }

    // MARK: API

    public func health() async throws(ClientError) -> Health { try await call(.GET, "/health", as: Health.self) }

    public func startBacktest(_ p: StartRequest) async throws(ClientError) -> StartedResponse {
        try await call(.POST, "/api/v1/backtests/start", body: Self.encode(p), as: StartedResponse.self)
    }

    public func operation(_ id: String) async throws(ClientError) -> OperationRecord {
        try await call(.GET, "/api/v1/operations/\(Self.escaped(id))", as: Envelope<OperationRecord>.self).data
    }

    public func cancel(_ id: String) async throws(ClientError) -> OperationRecord {
        try await call(.DELETE, "/api/v1/operations/\(Self.escaped(id))", as: Envelope<OperationRecord>.self).data
    }

    public func list(_ q: OperationsQuery = OperationsQuery()) async throws(ClientError) -> OperationList {
        var items = [String]()
        if let v = q.status { items.append("status=\(Self.escaped(v))") }
        if let v = q.operationType { items.append("operation_type=\(Self.escaped(v))") }
        if let v = q.activeOnly { items.append("active_only=\(v)") }
        if let v = q.parentId { items.append("parent_id=\(Self.escaped(v))") }
        if let v = q.limit { items.append("limit=\(v)") }
        if let v = q.offset { items.append("offset=\(v)") }
        let query = items.isEmpty ? "" : "?" + items.joined(separator: "&")
        return try await call(.GET, "/api/v1/operations" + query, as: Envelope<OperationList>.self).data
    }

    /// A completed backtest's full result (decoded in one pass by `ResultReader`).
    public func results(_ id: String, equityCurve: Bool = true) async throws(ClientError) -> BacktestResult {
        let (status, body) = try await send(.GET, "/api/v1/operations/\(Self.escaped(id))/results?equity_curve=\(equityCurve)", body: nil)
        guard (200..<300).contains(status) else { throw Self.failure(status, body) }
        do { return try ResultReader.decode(body, member: "data") } catch {
            throw ClientError(code: "invalid_response", message: "result of \(id): \(error)")
        }
    }

    // MARK: Transport

    func call<T: Decodable>(_ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, as type: T.Type) async throws(ClientError) -> T {
        let (status, bytes) = try await send(method, path, body: body)
        guard (200..<300).contains(status) else { throw Self.failure(status, bytes) }
        do { return try KtrdrJSON.decoder().decode(T.self, from: Data(bytes)) } catch {
            throw ClientError(code: "invalid_response", message: "\(method) \(path): unexpected response (\(error))", status: status)
        }
    }

    /// One request on its own connection, within `timeout`.
    func send(_ method: HTTPMethod, _ path: String, body: [UInt8]?, headers extra: [(String, String)] = [],
              contentType: String = "application/json") async throws(ClientError) -> (status: Int, body: [UInt8]) {
        let result: Result<(status: Int, body: [UInt8]), ClientError> = await withTaskGroup(of: Result<(status: Int, body: [UInt8]), ClientError>?.self) { group in
            group.addTask {
                do { return .success(try await exchange(method, path, body: body, headers: extra, contentType: contentType)) } catch let e as ClientError { return .failure(e) } catch {
                    return .failure(ClientError(code: "unreachable", message: "\(host):\(port): \(error)"))
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return Task.isCancelled ? nil : .failure(ClientError(code: "timeout", message: "\(method) \(path) on \(host):\(port): no answer within \(timeout)"))
            }
            var first: Result<(status: Int, body: [UInt8]), ClientError>?
            while first == nil, let next = await group.next() { first = next }
            group.cancelAll()
            return first ?? .failure(ClientError(code: "unreachable", message: "\(host):\(port)"))
        }
        return try result.get()
    }

    private func exchange(_ method: HTTPMethod, _ path: String, body: [UInt8]?, headers extra: [(String, String)],
                          contentType: String) async throws -> (status: Int, body: [UInt8]) {
        if let pool {
            var headers = HTTPHeaders()
            headers.add(name: "Host", value: "\(host):\(port)")
            headers.add(name: "Content-Length", value: "\(body?.count ?? 0)")
            if body != nil { headers.add(name: "Content-Type", value: contentType) }
            if let token { headers.add(name: "Authorization", value: "Bearer \(token)") }
            for (name, value) in extra { headers.add(name: name, value: value) }
            var parts: [HTTPClientRequestPart] = [.head(HTTPRequestHead(version: .http1_1, method: method, uri: basePath + path, headers: headers))]
            if let body { parts.append(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
            parts.append(.end(nil))
            let r = try await pool.send(parts)
            return (r.status, r.body)
        }
        let bootstrap = ClientBootstrap(group: group).connectTimeout(.seconds(5))
        let initializer: @Sendable (Channel) -> EventLoopFuture<NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>> = { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHTTPClientHandlers()
                return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
            }
        }
        let channel = if let socketPath {
            try await bootstrap.connect(unixDomainSocketPath: socketPath, channelInitializer: initializer)
        } else {
            try await bootstrap.connect(host: host, port: port, channelInitializer: initializer)
        }
        return try await channel.executeThenClose { inbound, outbound in
            var headers = HTTPHeaders()
            headers.add(name: "Host", value: "\(host):\(port)")
            headers.add(name: "Connection", value: "close")
            headers.add(name: "Content-Length", value: "\(body?.count ?? 0)")
            if body != nil { headers.add(name: "Content-Type", value: contentType) }
            for (name, value) in extra { headers.add(name: name, value: value) }
            if let token { headers.add(name: "Authorization", value: "Bearer \(token)") }
            var parts: [HTTPClientRequestPart] = [.head(HTTPRequestHead(version: .http1_1, method: method, uri: basePath + path, headers: headers))]
            if let body { parts.append(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
            parts.append(.end(nil))
            // One write, one flush. A server may answer (and, as asked, close) before the end of
            // the request is written: the answer counts, the failed write does not.
            var writeError: (any Error)?
            do { try await outbound.write(contentsOf: parts) } catch { writeError = error }
            var status = 0
            var received = [UInt8]()
            for try await part in inbound {
                switch part {
                case let .head(head): status = Int(head.status.code)
                case let .body(buffer): received.append(contentsOf: buffer.readableBytesView)
                case .end: return (status, received)
                }
            }
            if let writeError { throw writeError }
            throw ClientError(code: "connection_closed", message: "\(host):\(port) closed the connection before the end of the response")
        }
    }

    static func failure(_ status: Int, _ body: [UInt8]) -> ClientError {
        struct Failure: Decodable {
            struct Body: Decodable { var code: String; var message: String; var problems: [Problem]? }
            struct Problem: Decodable { var path: String?; var message: String? }
            var error: Body
        }
        guard let f = try? KtrdrJSON.decoder().decode(Failure.self, from: Data(body)) else {
            return ClientError(code: "http_\(status)", message: "HTTP \(status): \(String(decoding: body.prefix(200), as: UTF8.self))", status: status)
        }
        return ClientError(code: f.error.code, message: f.error.message, status: status,
                           problems: (f.error.problems ?? []).map { [$0.path, $0.message].compactMap { $0 }.joined(separator: ": ") })
    }

    static func encode<T: Encodable>(_ value: T) throws(ClientError) -> [UInt8] {
        do { return [UInt8](try KtrdrJSON.encoder().encode(value)) } catch {
            throw ClientError(code: "invalid_request", message: "cannot encode the request: \(error)")
        }
    }

    static func escaped(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=?/#+"))) ?? s }
}
