import Foundation
import KtrdrAPI
import KtrdrCore
import KtrdrOperations
import KtrdrPlugins
import KtrdrFiles

/// The operations the daemon offers, independent of transport: the HTTP routes and the
/// control-socket methods are thin adapters over these.
public struct ApiService: Sendable {
    public let manager: OperationManager
    public let strategiesDirectory: String
    public let version: String
    /// `server` or `worker`.
    public var role = "server"
    /// A worker: the URL servers reach it at (what it registers).
    public var advertisedURL: String?
    /// Told of every reload (worker processes are recycled when new code loaded).
    public var afterReload: (@Sendable (PluginHost.ReloadReport) -> Void)?
    /// Changes with every process: a server tells a restarted worker from a live one.
    public let instance = "\(getpid())-\(Int(Date().timeIntervalSince1970 * 1000))"

    public init(manager: OperationManager, strategiesDirectory: String, version: String) {
        self.manager = manager
        self.strategiesDirectory = strategiesDirectory
        self.version = version
    }

    /// `POST /api/v1/backtests/start`, `backtest.start`.
    public func startBacktest(_ body: Data) async throws(ApiError) -> StartedResponse {
        let p: StartRequest = try decode(StartRequest.self, from: body)
        let record = try await manager.startBacktest(p)
        return StartedResponse(operationId: record.operationId, status: "started",
                               message: "backtest of \(p.strategyName) on \(p.symbol) \(p.timeframe) started (\(record.metadata.bars.map { "\($0) bars" } ?? "loading data"))",
                               symbol: p.symbol, timeframe: p.timeframe, mode: record.metadata.mode, data: record)
    }

    /// `POST /api/v1/sweeps/start`, `sweep.start`.
    public func startSweep(_ body: Data) async throws(ApiError) -> StartedResponse {
        let r: SweepRequest = try decode(SweepRequest.self, from: body)
        let record = try await manager.startSweep(r)
        return StartedResponse(operationId: record.operationId, status: "started",
                               message: "sweep of \(r.run.strategyName) on \(r.run.symbol) \(r.run.timeframe) started (\(record.progress.itemsTotal) trials)",
                               symbol: r.run.symbol, timeframe: r.run.timeframe, mode: record.metadata.mode, data: record)
    }

    /// `POST /api/v1/walkforwards/start`, `walkforward.start`.
    public func startWalkForward(_ body: Data) async throws(ApiError) -> StartedResponse {
        let r: WalkForwardRequest = try decode(WalkForwardRequest.self, from: body)
        let record = try await manager.startWalkForward(r)
        let run = r.sweep.run
        return StartedResponse(operationId: record.operationId, status: "started",
                               message: "walk-forward of \(run.strategyName) on \(run.symbol) \(run.timeframe) started (\(record.metadata.walkForwardWindows ?? 0) windows, \(record.progress.itemsTotal) backtests)",
                               symbol: run.symbol, timeframe: run.timeframe, mode: record.metadata.mode, data: record)
    }

    /// `POST /api/v1/trainings/start`, `training.start`.
    public func startTraining(_ body: Data) async throws(ApiError) -> StartedResponse {
        let p: StartRequest = try decode(StartRequest.self, from: body)
        let record = try await manager.startTraining(p)
        return StartedResponse(operationId: record.operationId, status: "started",
                               message: "training of \(p.strategyName) on \(p.symbol) \(p.timeframe) started (\(record.metadata.bars.map { "\($0) bars" } ?? "loading data"), \(record.progress.itemsTotal) epochs)",
                               symbol: p.symbol, timeframe: p.timeframe, mode: record.metadata.mode, data: record)
    }

    public func operation(_ id: String) async throws(ApiError) -> OperationRecord { try await manager.get(id) }

    /// `GET /operations/{id}` as ready-made JSON (the record, without the envelope).
    /// A remote operation's progress is read from its worker first when the copy is stale.
    public func operationJSON(_ id: String) async throws(ApiError) -> [UInt8] {
        await manager.refreshRemote(id)
        return try await manager.getJSON(id)
    }

    public func cancel(_ id: String) async throws(ApiError) -> OperationRecord { try await manager.cancel(id) }

    public func list(_ q: OperationsQuery) async throws(ApiError) -> OperationList {
        try await list(status: q.status, type: q.operationType, activeOnly: q.activeOnly ?? false, parentId: q.parentId,
                       limit: q.limit ?? 100, offset: q.offset ?? 0)
    }

    public func list(status: String?, type: String?, activeOnly: Bool, parentId: String? = nil, limit: Int, offset: Int) async throws(ApiError) -> OperationList {
        var s: OperationStatus?, t: OperationType?
        if let status {
            guard let v = OperationStatus(rawValue: status) else {
                throw .badRequest("status: unknown value '\(status)': expected one of \(OperationStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            s = v
        }
        if let type {
            guard let v = OperationType(rawValue: type) else {
                throw .badRequest("operation_type: unknown value '\(type)': expected one of \(OperationType.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            t = v
        }
        guard (1...1000).contains(limit) else { throw .badRequest("limit: must be in 1...1000, got \(limit)") }
        guard offset >= 0 else { throw .badRequest("offset: must be >= 0, got \(offset)") }
        if let parentId, !OperationRecord.isValidId(parentId) {
            throw .badRequest("parent_id: '\(parentId.prefix(80))' is not an operation id (op_…)")
        }
        let (records, total) = try await manager.list(status: s, type: t, activeOnly: activeOnly, parentId: parentId, limit: limit, offset: offset)
        return OperationList(operations: records, totalCount: total, limit: limit, offset: offset)
    }

    public func metrics(_ id: String, cursor: Int) async throws(ApiError) -> MetricsPage {
        let (samples, next, status) = try await manager.metrics(id, cursor: cursor)
        return MetricsPage(operationId: id, operationType: "backtesting", status: status.rawValue, metrics: ["bars": samples], cursor: next)
    }

    /// The full result as JSON bytes; without the equity curve when `includeCurve` is false
    /// (a 1M-bar curve is ~50 MB of JSON, and a result table does not need it).
    public func resultJSON(_ id: String, includeCurve: Bool = true) async throws(ApiError) -> [UInt8] {
        try await manager.resultJSON(id, includeCurve: includeCurve)
    }

    public func strategies() -> [StrategyInfo] { StrategyCatalog.list(directory: strategiesDirectory) }

    private var pluginHost: PluginHost { manager.config.strategies.plugins }

    /// Every loaded plugin generation, which operations run on each, and refused files.
    public func plugins() -> PluginList {
        let (plugins, problems) = pluginHost.list()
        return PluginList(abi: PluginDescriptor.hostABI, directory: pluginHost.directory, plugins: plugins, problems: problems)
    }

    public func models() -> [ModelSummary] { manager.config.strategies.models.list() }

    /// Rescans the plugins directory: new builds load beside the old ones.
    public func reloadPlugins() -> PluginHost.ReloadReport {
        let report = pluginHost.reload()
        afterReload?(report)
        return report
    }


    public func health() async -> Health {
        let (running, pending) = await manager.counts()
        var h = Health(status: "ok", version: version, running: running, pending: pending, capacity: manager.config.maxConcurrent)
        h.role = role
        if role == "worker" { h.worker = await workerInfo() }
        if let workers = manager.workers { h.workersHealthy = await workers.statuses().filter(\.healthy).count }
        h.isolation = manager.config.isolation == nil ? "none" : "process"
        if let pool = manager.config.isolation {
            h.workerProcessesReady = await pool.directory.ready()
            h.workerProcessRestarts = pool.restarts
        }
        return h
    }

    func decode<T: Decodable>(_ type: T.Type, from body: Data, emptyIsObject: Bool = false) throws(ApiError) -> T {
        let body = emptyIsObject && body.isEmpty ? Data("{}".utf8) : body
        guard !body.isEmpty else { throw .badRequest("empty request body: expected a JSON object", code: "invalid_json") }
        if let strict = T.self as? any StrictFields.Type,
           let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] {
            let unknown = strict.unknownFields(in: object)
            if !unknown.isEmpty {
                let named = unknown.map { "'\($0.field)'" + ($0.suggestion.map { " (did you mean '\($0)'?)" } ?? "") }
                throw ApiError(status: 400, code: "unknown_field",
                               message: "unknown field\(unknown.count == 1 ? "" : "s") \(named.joined(separator: ", ")): expected \(strict.fieldNames.joined(separator: ", "))",
                               details: ["fields": unknown.map(\.field).joined(separator: ",")])
            }
        }
        do {
            return try KtrdrJSON.decoder().decode(T.self, from: body)
        } catch let DecodingError.keyNotFound(key, context) {
            throw .badRequest("missing required field '\(Self.path(context.codingPath + [key]))'", code: "validation_error")
        } catch let DecodingError.typeMismatch(expected, context) {
            throw .badRequest("field '\(Self.path(context.codingPath))': expected \(Self.typeName(expected))", code: "validation_error")
        } catch let DecodingError.valueNotFound(expected, context) {
            throw .badRequest("field '\(Self.path(context.codingPath))': expected \(Self.typeName(expected)), got null", code: "validation_error")
        } catch let DecodingError.dataCorrupted(context) {
            let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            throw .badRequest("malformed JSON: \(underlying ?? context.debugDescription)", code: "invalid_json")
        } catch {
            throw .badRequest("malformed JSON: \(error)", code: "invalid_json")
        }
    }

    static func path(_ keys: [CodingKey]) -> String {
        keys.map { key in key.intValue.map { "[\($0)]" } ?? Self.snake(key.stringValue) }.joined(separator: ".")
    }

    static func snake(_ s: String) -> String {
        var out = ""
        for c in s { if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) } }
        return out
    }

    static func typeName(_ t: Any.Type) -> String {
        switch t {
        case is String.Type, is String?.Type: "a string"
        case is Double.Type, is Double?.Type: "a number"
        case is Int.Type, is Int?.Type: "an integer"
        case is Bool.Type, is Bool?.Type: "true or false"
        default: "\(t)"
        }
    }
}

