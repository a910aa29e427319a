import CKtrdrSupport
import Foundation
import KtrdrAPI
import KtrdrCore

/// An error reported by the daemon (or by the transport), with its stable code.
public struct ClientError: Error, CustomStringConvertible, Sendable {
    public var code: String
    public var message: String
    /// HTTP-like status when known (404 not found, 422 invalid…).
    public var status: Int?
    public var problems: [String]

    public init(code: String, message: String, status: Int? = nil, problems: [String] = []) {
        self.code = code
        self.message = message
        self.status = status
        self.problems = problems
    }

    public var description: String {
        // A message that already lists its problems (strategy_invalid does) is not repeated.
        ([message] + problems.map { "  - \($0)" }.filter { !message.contains($0) }).joined(separator: "\n")
    }

    static func from(errorObject e: [String: Any]) -> ClientError {
        let problems = (e["problems"] as? [[String: Any]] ?? []).map { p -> String in
            let line = (p["line"] as? Int).map { " (line \($0))" } ?? ""
            return "\(p["path"] as? String ?? "?")\(line): \(p["message"] as? String ?? "")"
        }
        let code = e["code"] as? String ?? "error"
        return ClientError(code: code, message: e["message"] as? String ?? "unknown error", status: e["status"] as? Int, problems: problems)
    }
}

/// A blocking client of the control socket (one JSON object per line).
public final class ControlClient {
    private let fd: Int32
    private var buffer = [UInt8]()
    private var nextId = 1
    public private(set) var greeting: [String: Any] = [:]

    public init(socketPath: String, timeout: Double = 5) throws {
        fd = ktrdr_unix_connect(socketPath)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw ClientError(code: errno == ENAMETOOLONG ? "socket_error" : "daemon_unreachable",
                              message: "cannot connect to ktrdrd at \(socketPath): \(reason) (start it with `ktrdrctl daemon start`)")
        }
        guard let hello = try readObject(), hello["ktrdr"] != nil else {
            close(fd)
            throw ClientError(code: "protocol_error", message: "no ktrdr greeting on \(socketPath)")
        }
        greeting = hello
    }

    deinit { close(fd) }

    /// Sends a request and returns its `result` (throws the daemon's error).
    public func call(_ method: String, _ params: [String: Any] = [:]) throws -> Any {
        let id = send(method, params)
        while true {
            guard let message = try readObject() else { throw ClientError(code: "connection_closed", message: "ktrdrd closed the connection") }
            guard message["id"] as? Int == id, message["event"] == nil else { continue }
            if let e = message["error"] as? [String: Any] { throw ClientError.from(errorObject: e) }
            return message["result"] ?? NSNull()
        }
    }

    /// Decodes a call's result into `T` (snake_case JSON), straight from the reply line.
    public func call<T: Decodable>(_ method: String, _ params: [String: Any] = [:], as: T.Type) throws -> T {
        let id = send(method, params)
        while true {
            guard let line = try readLine() else { throw ClientError(code: "connection_closed", message: "ktrdrd closed the connection") }
            // Cheap check before a full decode: only our reply (not an event) matters here.
            let head = line.prefix(48)
            guard head.starts(with: Array("{\"".utf8)) else { continue }
            if let reply = try? KtrdrJSON.decoder().decode(TypedReply<T>.self, from: line), reply.id == id {
                if let result = reply.result { return result }
            }
            if let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any], object["id"] as? Int == id, object["event"] == nil {
                if let e = object["error"] as? [String: Any] { throw ClientError.from(errorObject: e) }
                throw ClientError(code: "protocol_error", message: "unexpected reply to \(method)")
            }
        }
    }

    /// Sends a request and returns its reply line undecoded (errors are thrown).
    public func rawReply(_ method: String, _ params: [String: Any]) throws -> Data {
        let id = send(method, params)
        let prefix = Array("{\"id\":\(id),\"result\":".utf8)
        while true {
            guard let line = try readLine() else { throw ClientError(code: "connection_closed", message: "ktrdrd closed the connection") }
            if line.starts(with: prefix) { return line }
            if let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any], object["id"] as? Int == id, object["event"] == nil {
                if let e = object["error"] as? [String: Any] { throw ClientError.from(errorObject: e) }
                return line
            }
        }
    }

    struct TypedReply<T: Decodable>: Decodable {
        var id: Int?
        var result: T?
    }

    /// `operation.watch`: calls `onUpdate` with the current record, then each change, until terminal.
    public func watch(_ operationId: String, onUpdate: (OperationRecord) -> Void) throws -> OperationRecord {
        let id = send("operation.watch", ["operation_id": operationId])
        let decoder = KtrdrJSON.decoder()
        while true {
            guard let message = try readObject() else { throw ClientError(code: "connection_closed", message: "ktrdrd closed the connection") }
            guard message["id"] as? Int == id else { continue }
            if let e = message["error"] as? [String: Any] { throw ClientError.from(errorObject: e) }
            guard let body = message["result"] ?? message["data"] else { continue }
            let record = try decoder.decode(OperationRecord.self, from: try JSONSerialization.data(withJSONObject: body))
            onUpdate(record)
            if record.status.isTerminal { return record }
        }
    }

    @discardableResult
    private func send(_ method: String, _ params: [String: Any]) -> Int {
        let id = nextId
        nextId += 1
        var data = (try? JSONSerialization.data(withJSONObject: ["id": id, "method": method, "params": params])) ?? Data()
        data.append(0x0A)
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
        return id
    }

    private func readObject() throws -> [String: Any]? {
        guard let line = try readLine() else { return nil }
        guard let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any] else {
            throw ClientError(code: "protocol_error", message: "unreadable line from ktrdrd")
        }
        return object
    }

    /// The next non-empty line, without its newline.
    private func readLine() throws -> Data? {
        var scanned = 0
        while true {
            if let newline = buffer[scanned...].firstIndex(of: 0x0A) {
                let line = Data(buffer[..<newline])
                buffer.removeSubrange(...newline)
                scanned = 0
                if line.isEmpty { continue }
                return line
            }
            scanned = buffer.count
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            let n = read(fd, &chunk, chunk.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return nil }
            buffer.append(contentsOf: chunk[..<n])
        }
    }
}
