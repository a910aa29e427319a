import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import KtrdrAPI
import KtrdrCore

/// What ktrdrctl asks of a daemon, over the control socket or over HTTP.
public protocol DaemonConnection: AnyObject {
    func startBacktest(_ params: [String: Any]) throws -> OperationRecord
    func operation(_ id: String) throws -> OperationRecord
    func cancel(_ id: String) throws -> OperationRecord
    func list(_ params: [String: Any]) throws -> [OperationRecord]
    func results(_ id: String, equityCurve: Bool) throws -> BacktestResult
    /// Calls `onUpdate` with each new state until a terminal one, which it returns.
    func watch(_ id: String, onUpdate: (OperationRecord) -> Void) throws -> OperationRecord
    func startTraining(_ params: [String: Any]) throws -> OperationRecord
    func startSweep(_ params: [String: Any]) throws -> OperationRecord
    /// A sweep's finished trials, best first (at any point of its life).
    func sweepResult(_ id: String) throws -> SweepResult
    func startWalkForward(_ params: [String: Any]) throws -> OperationRecord
    func walkForwardResult(_ id: String) throws -> WalkForwardResult
    func plugins() throws -> PluginList
    func reloadPlugins() throws -> PluginReloadReport
    func models() throws -> [ModelSummary]
    func workers() throws -> [WorkerStatus]
}


/// A response body kept as bytes (decoded by `ResultReader`).
struct RawBody: Decodable {
    var bytes: [UInt8]
    init(from decoder: Decoder) throws { throw ClientError(code: "internal", message: "RawBody is not decoded") }
    init(bytes: [UInt8]) { self.bytes = bytes }
}

extension ControlClient: DaemonConnection {
    public func startBacktest(_ params: [String: Any]) throws -> OperationRecord {
        try call("backtest.start", params, as: StartedResponse.self).data
    }
    public func startTraining(_ params: [String: Any]) throws -> OperationRecord {
        try call("training.start", params, as: StartedResponse.self).data
    }
    public func startSweep(_ params: [String: Any]) throws -> OperationRecord {
        try call("sweep.start", params, as: StartedResponse.self).data
    }
    public func sweepResult(_ id: String) throws -> SweepResult {
        try call("operation.results", ["operation_id": id], as: SweepResult.self)
    }
    public func startWalkForward(_ params: [String: Any]) throws -> OperationRecord {
        try call("walkforward.start", params, as: StartedResponse.self).data
    }
    public func walkForwardResult(_ id: String) throws -> WalkForwardResult {
        try call("operation.results", ["operation_id": id], as: WalkForwardResult.self)
    }
    public func plugins() throws -> PluginList { try call("plugins.list", [:], as: PluginList.self) }
    public func reloadPlugins() throws -> PluginReloadReport { try call("plugins.reload", [:], as: PluginReloadReport.self) }
    public func models() throws -> [ModelSummary] { try call("models.list", [:], as: [ModelSummary].self) }
    public func workers() throws -> [WorkerStatus] { try call("workers.list", [:], as: [WorkerStatus].self) }
    public func operation(_ id: String) throws -> OperationRecord { try call("operation.get", ["operation_id": id], as: OperationRecord.self) }
    public func cancel(_ id: String) throws -> OperationRecord { try call("operation.cancel", ["operation_id": id], as: OperationRecord.self) }
    public func list(_ params: [String: Any]) throws -> [OperationRecord] { try call("operations.list", params, as: OperationList.self).operations }
    public func results(_ id: String, equityCurve: Bool) throws -> BacktestResult {
        let line = try rawReply("operation.results", ["operation_id": id, "equity_curve": equityCurve])
        return try ResultReader.decode(Array(line), member: "result")
    }
}

/// The REST API over HTTP (`ktrdrctl --url`). Progress is read by polling every 200 ms.
public final class HTTPConnection: DaemonConnection {
    let base: URL
    let token: String?

    public init(url: String, token: String?) throws {
        guard let u = URL(string: url), u.scheme == "http" || u.scheme == "https" else {
            throw ClientError(code: "bad_url", message: "--url must be http(s)://host:port, got '\(url)'")
        }
        base = u
        self.token = token
    }

    func request<T: Decodable>(_ method: String, _ path: String, body: [String: Any]? = nil, as: T.Type) throws -> T {
        let root = base.absoluteString.hasSuffix("/") ? String(base.absoluteString.dropLast()) : base.absoluteString
        guard let url = URL(string: root + "/" + path) else { throw ClientError(code: "bad_url", message: "cannot build URL for \(path)") }
        var req = URLRequest(url: url)
        req.httpMethod = method
        req.timeoutInterval = 30
        if let token { req.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let body {
            req.httpBody = try JSONSerialization.data(withJSONObject: body)
            req.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let box = ResponseBox()
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: req) { data, response, error in
            box.set(data, (response as? HTTPURLResponse)?.statusCode, error)
            done.signal()
        }.resume()
        done.wait()
        let (data, status, error) = box.get()
        if let error { throw ClientError(code: "daemon_unreachable", message: "\(base.absoluteString): \(error.localizedDescription)") }
        guard let data, let status else { throw ClientError(code: "protocol_error", message: "empty HTTP response") }
        if status >= 400 {
            let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
            var e = ClientError.from(errorObject: object?["error"] as? [String: Any] ?? ["code": "http_\(status)", "message": "HTTP \(status)"])
            e.status = status
            throw e
        }
        if T.self == RawBody.self { return RawBody(bytes: Array(data)) as! T }
        return try KtrdrJSON.decoder().decode(T.self, from: data)
    }

    public func startBacktest(_ params: [String: Any]) throws -> OperationRecord {
        try request("POST", "api/v1/backtests/start", body: params, as: StartedResponse.self).data
    }
    public func operation(_ id: String) throws -> OperationRecord {
        try request("GET", "api/v1/operations/\(id)", as: Envelope<OperationRecord>.self).data
    }
    public func startTraining(_ params: [String: Any]) throws -> OperationRecord {
        try request("POST", "api/v1/trainings/start", body: params, as: StartedResponse.self).data
    }
    public func startSweep(_ params: [String: Any]) throws -> OperationRecord {
        try request("POST", "api/v1/sweeps/start", body: params, as: StartedResponse.self).data
    }
    public func sweepResult(_ id: String) throws -> SweepResult {
        try request("GET", "api/v1/operations/\(id)/results", as: Envelope<SweepResult>.self).data
    }
    public func startWalkForward(_ params: [String: Any]) throws -> OperationRecord {
        try request("POST", "api/v1/walkforwards/start", body: params, as: StartedResponse.self).data
    }
    public func walkForwardResult(_ id: String) throws -> WalkForwardResult {
        try request("GET", "api/v1/operations/\(id)/results", as: Envelope<WalkForwardResult>.self).data
    }
    public func plugins() throws -> PluginList { try request("GET", "api/v1/plugins", as: Envelope<PluginList>.self).data }
    public func reloadPlugins() throws -> PluginReloadReport {
        try request("POST", "api/v1/plugins/reload", as: Envelope<PluginReloadReport>.self).data
    }
    public func models() throws -> [ModelSummary] { try request("GET", "api/v1/models", as: Envelope<[ModelSummary]>.self).data }
    public func workers() throws -> [WorkerStatus] { try request("GET", "api/v1/workers", as: Envelope<[WorkerStatus]>.self).data }
    public func cancel(_ id: String) throws -> OperationRecord {
        try request("DELETE", "api/v1/operations/\(id)", as: Envelope<OperationRecord>.self).data
    }
    public func list(_ params: [String: Any]) throws -> [OperationRecord] {
        var path = "api/v1/operations"
        let query = params.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "&")
        if !query.isEmpty { path += "?" + query }
        return try request("GET", path, as: Envelope<OperationList>.self).data.operations
    }
    public func results(_ id: String, equityCurve: Bool) throws -> BacktestResult {
        let body = try request("GET", "api/v1/operations/\(id)/results?equity_curve=\(equityCurve)", as: RawBody.self)
        return try ResultReader.decode(body.bytes, member: "data")
    }
    public func watch(_ id: String, onUpdate: (OperationRecord) -> Void) throws -> OperationRecord {
        var last: OperationRecord?
        while true {
            let r = try operation(id)
            if r != last { onUpdate(r); last = r }
            if r.status.isTerminal { return r }
            usleep(200_000)
        }
    }
}

final class ResponseBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: (Data?, Int?, Error?) = (nil, nil, nil)
    func set(_ d: Data?, _ s: Int?, _ e: Error?) { lock.lock(); value = (d, s, e); lock.unlock() }
    func get() -> (Data?, Int?, Error?) { lock.lock(); defer { lock.unlock() }; return value }
}
