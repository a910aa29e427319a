import Foundation

/// `{success: true, data}`: every successful answer of the HTTP API.
public struct Envelope<T> {
    public var success = true
    public var data: T
    public init(data: T) { self.data = data }
}

extension Envelope: Encodable where T: Encodable {}
extension Envelope: Decodable where T: Decodable {}
extension Envelope: Sendable where T: Sendable {}

/// Response of a start call (SYSTEM.md §3): the fields at the top level, the record in `data`.
public struct StartedResponse: Codable, Sendable {
    public var success = true
    public var operationId: String
    public var status: String
    public var message: String
    public var symbol: String
    public var timeframe: String
    public var mode: String
    public var data: OperationRecord

    public init(operationId: String, status: String, message: String, symbol: String, timeframe: String, mode: String, data: OperationRecord) {
        self.operationId = operationId
        self.status = status
        self.message = message
        self.symbol = symbol
        self.timeframe = timeframe
        self.mode = mode
        self.data = data
    }
}

public struct OperationList: Codable, Sendable {
    public var operations: [OperationRecord]
    public var totalCount: Int
    public var limit: Int
    public var offset: Int

    public init(operations: [OperationRecord], totalCount: Int, limit: Int, offset: Int) {
        self.operations = operations
        self.totalCount = totalCount
        self.limit = limit
        self.offset = offset
    }
}

public struct MetricsPage: Codable, Sendable {
    public var operationId: String
    public var operationType: String
    public var status: String
    public var metrics: [String: [BarSample]]
    /// Pass as `cursor` to continue.
    public var cursor: Int

    public init(operationId: String, operationType: String, status: String, metrics: [String: [BarSample]], cursor: Int) {
        self.operationId = operationId
        self.operationType = operationType
        self.status = status
        self.metrics = metrics
        self.cursor = cursor
    }
}

public struct StrategyInfo: Codable, Sendable {
    public var name: String
    public var version: String?
    public var description: String?
    public var plugin: String?
    public var symbols: [String]
    public var timeframes: [String]
    public var valid: Bool
    public var problems: [String]?

    public init(name: String, version: String? = nil, description: String? = nil, plugin: String? = nil, symbols: [String], timeframes: [String], valid: Bool, problems: [String]? = nil) {
        self.name = name
        self.version = version
        self.description = description
        self.plugin = plugin
        self.symbols = symbols
        self.timeframes = timeframes
        self.valid = valid
        self.problems = problems
    }
}

public struct Health: Codable, Sendable {
    public var status: String
    public var version: String
    public var running: Int
    public var pending: Int
    public var capacity: Int
    public var role: String?
    /// A worker: itself, plugins and cached data included.
    public var worker: WorkerInfo?
    /// A server with remote workers: how many are healthy.
    public var workersHealthy: Int?
    /// `process` (backtests in supervised worker processes) or `none`.
    public var isolation: String?
    /// Worker processes ready for work, and how many were started again after ending.
    public var workerProcessesReady: Int?
    public var workerProcessRestarts: Int?

    public init(status: String, version: String, running: Int, pending: Int, capacity: Int) {
        self.status = status
        self.version = version
        self.running = running
        self.pending = pending
        self.capacity = capacity
    }
}

public struct DaemonStatus: Codable, Sendable {
    public var version: String
    public var pid: Int32
    public var startedAt: String
    public var uptimeSeconds: Double
    public var home: String
    public var socket: String
    public var http: String
    public var database: String
    public var running: Int
    public var pending: Int
    public var capacity: Int

    public init(version: String, pid: Int32, startedAt: String, uptimeSeconds: Double, home: String, socket: String, http: String, database: String, running: Int, pending: Int, capacity: Int) {
        self.version = version
        self.pid = pid
        self.startedAt = startedAt
        self.uptimeSeconds = uptimeSeconds
        self.home = home
        self.socket = socket
        self.http = http
        self.database = database
        self.running = running
        self.pending = pending
        self.capacity = capacity
    }
}
