import Foundation
import KtrdrAPI
import KtrdrCore
import KtrdrOperations
import Logging
import NIOCore

/// One control-socket connection: greeting, then one JSON request per line, each answered
/// with `{"id", "result"}` or `{"id", "error"}`. Requests run concurrently, so a long
/// `operation.watch` does not block the connection.
struct ControlSession: Sendable {
    let service: ApiService
    let control: DaemonControl
    let logger: Logger
    let peer: UInt32?

    static let methods = ["backtest.start", "training.start", "sweep.start", "walkforward.start", "operations.list", "operation.get", "operation.cancel", "operation.watch", "operation.metrics",
                          "operation.results", "strategies.list", "models.list", "plugins.list", "plugins.reload", "workers.list", "daemon.status",
                          "daemon.shutdown"]

    func serve(_ channel: NIOAsyncChannel<LineFrame, ByteBuffer>) async {
        do {
            try await channel.executeThenClose { inbound, outbound in
                let out = LineWriter(outbound: outbound)
                let inFlight = InFlightLimit(ControlSocketServer.maxInFlight)
                await out.send(Greeting(ktrdr: .init(version: service.version, protocol: ControlSocketServer.protocolVersion,
                                                     capabilities: Self.methods)))
                try await withThrowingDiscardingTaskGroup { group in
                    for try await frame in inbound {
                        switch frame {
                        case let .tooLong(n):
                            await out.send(ErrorReply(id: .null, error: .init(ApiError(status: 413, code: "line_too_long",
                                message: "request line of \(n) bytes exceeds the \(ControlSocketServer.maxLine)-byte limit"))))
                        case let .line(buffer):
                            let data = Data(buffer.readableBytesView)
                            if data.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                            // A client that sends without reading its replies is paused here, not buffered.
                            await inFlight.acquire()
                            group.addTask {
                                await handle(data, out)
                                await inFlight.release()
                            }
                        }
                    }
                }
            }
        } catch {
            logger.debug("control connection closed", metadata: ["error": "\(error)"])
        }
    }

    func handle(_ line: Data, _ out: LineWriter) async {
        let object: [String: Any]
        do {
            guard let o = try JSONSerialization.jsonObject(with: line) as? [String: Any] else {
                return await out.send(ErrorReply(id: .null, error: .init(.badRequest("expected a JSON object per line", code: "invalid_request"))))
            }
            object = o
        } catch {
            let message = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
            return await out.send(ErrorReply(id: .null, error: .init(.badRequest("malformed JSON: \(message)", code: "invalid_json"))))
        }
        let id = RequestId(object["id"])
        guard let method = object["method"] as? String else {
            return await out.send(ErrorReply(id: id, error: .init(.badRequest("missing 'method' (a string)", code: "invalid_request"))))
        }
        let params = object["params"] as? [String: Any] ?? [:]
        if object["params"] != nil, !(object["params"] is [String: Any]) {
            return await out.send(ErrorReply(id: id, error: .init(.badRequest("'params' must be an object", code: "invalid_request"))))
        }
        do {
            try await dispatch(method, params: params, id: id, out)
        } catch let error as ApiError {
            await out.send(ErrorReply(id: id, error: .init(error)))
        } catch {
            await out.send(ErrorReply(id: id, error: .init(ApiError(status: 500, code: "internal_error", message: "\(error)"))))
        }
    }

    /// Each method's params decode into its typed request (`KtrdrAPI/Requests.swift`); a
    /// missing or mistyped field is a `validation_error` naming it.
    func dispatch(_ method: String, params: [String: Any], id: RequestId, _ out: LineWriter) async throws {
        let body = try JSONSerialization.data(withJSONObject: params)
        func request<T: Decodable>(_ type: T.Type) throws(ApiError) -> T { try service.decode(type, from: body, emptyIsObject: true) }
        switch method {
        case "backtest.start":
            await out.send(Reply(id: id, result: try await service.startBacktest(body)))
        case "training.start":
            await out.send(Reply(id: id, result: try await service.startTraining(body)))
        case "sweep.start":
            await out.send(Reply(id: id, result: try await service.startSweep(body)))
        case "walkforward.start":
            await out.send(Reply(id: id, result: try await service.startWalkForward(body)))
        case "operations.list":
            await out.send(Reply(id: id, result: try await service.list(try request(OperationsQuery.self))))
        case "operation.get":
            await out.send(Reply(id: id, result: try await service.operation(try request(OperationRef.self).operationId)))
        case "operation.cancel":
            await out.send(Reply(id: id, result: try await service.cancel(try request(OperationRef.self).operationId)))
        case "operation.metrics":
            let q = try request(MetricsQuery.self)
            await out.send(Reply(id: id, result: try await service.metrics(q.operationId, cursor: q.cursor ?? 0)))
        case "operation.results":
            let q = try request(ResultsQuery.self)
            let json = try await service.resultJSON(q.operationId, includeCurve: q.equityCurve ?? true)
            let prefix = try KtrdrJSON.encoder().encode(id)
            await out.sendRaw(Array("{\"id\":".utf8) + Array(prefix) + Array(",\"result\":".utf8) + json + [0x7D])
        case "operation.watch":
            try await watch(try request(OperationRef.self).operationId, id: id, out)
        case "strategies.list":
            await out.send(Reply(id: id, result: service.strategies()))
        case "models.list":
            await out.send(Reply(id: id, result: service.models()))
        case "plugins.list":
            await out.send(Reply(id: id, result: service.plugins()))
        case "workers.list":
            await out.send(Reply(id: id, result: await service.workers()))
        case "plugins.reload":
            logger.notice("admin call", metadata: ["method": "\(method)", "peer_uid": "\(peer.map(String.init) ?? "?")"])
            await out.send(Reply(id: id, result: service.reloadPlugins()))
        case "daemon.status":
            logger.notice("admin call", metadata: ["method": "\(method)", "peer_uid": "\(peer.map(String.init) ?? "?")"])
            await out.send(Reply(id: id, result: await control.status()))
        case "daemon.shutdown":
            logger.notice("admin call", metadata: ["method": "\(method)", "peer_uid": "\(peer.map(String.init) ?? "?")"])
            await out.send(Reply(id: id, result: ["status": "shutting_down"]))
            control.shutdown()
        default:
            throw ApiError(status: 404, code: "unknown_method",
                           message: "unknown method '\(method.prefix(64))': expected one of \(Self.methods.joined(separator: ", "))")
        }
    }

    /// The state at once (as the reply), then a progress event per change at most every
    /// 100 ms, and the terminal state as the last event.
    func watch(_ operationId: String, id: RequestId, _ out: LineWriter) async throws {
        var last = try await service.operation(operationId)
        await out.send(Reply(id: id, result: last))
        guard await out.isOpen else { return }
        while !last.status.isTerminal {
            await service.manager.waitForEnd(operationId, upTo: 100_000_000)
            try Task.checkCancellation()
            let current = try await service.operation(operationId)
            if current != last {
                last = current
                await out.send(Event(id: id, event: "operation.progress", data: current))
                guard await out.isOpen else { return }
            }
        }
    }
}

/// Serialises whole-line writes from concurrent request tasks.
actor LineWriter {
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private(set) var isOpen = true

    init(outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) { self.outbound = outbound }

    /// A line already serialised (the newline is added here).
    func sendRaw(_ bytes: [UInt8]) async {
        guard isOpen else { return }
        do { try await outbound.write(ByteBuffer(bytes: bytes + [0x0A])) } catch { isOpen = false }
    }

    func send<T: Encodable>(_ value: T) async {
        guard isOpen else { return }
        do {
            var data = try KtrdrJSON.encoder().encode(value)
            data.append(0x0A)
            try await outbound.write(ByteBuffer(data: data))
        } catch {
            isOpen = false
        }
    }
}

/// Counts a connection's unanswered requests; `acquire` waits while the cap is reached.
actor InFlightLimit {
    private var available: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(_ limit: Int) { available = limit }

    func acquire() async {
        if available > 0 {
            available -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty { available += 1 } else { waiting.removeFirst().resume() }
    }
}

/// A request id as sent: number, string or absent.
enum RequestId: Encodable, Sendable {
    case int(Int), string(String), null

    init(_ any: Any?) {
        if let i = any as? Int { self = .int(i) } else if let s = any as? String { self = .string(s) } else { self = .null }
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case let .int(i): try c.encode(i)
        case let .string(s): try c.encode(s)
        case .null: try c.encodeNil()
        }
    }
}

struct Reply<T: Encodable>: Encodable {
    let id: RequestId
    let result: T
}

struct ErrorReply: Encodable {
    let id: RequestId
    let error: ErrorEnvelope.Body

    init(id: RequestId, error: ErrorEnvelope.Body) {
        self.id = id
        self.error = error
    }
}

extension ErrorEnvelope.Body {
    /// The socket form carries the status, so clients map errors the same way on both transports.
    init(_ e: ApiError) {
        self = ErrorEnvelope(e).error
        status = e.status
    }
}

struct Event<T: Encodable>: Encodable {
    let id: RequestId
    let event: String
    let data: T
}

struct Greeting: Encodable {
    struct Info: Encodable {
        let version: String
        let `protocol`: Int
        let capabilities: [String]
    }
    let ktrdr: Info
}
