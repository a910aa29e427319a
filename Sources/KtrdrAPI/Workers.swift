import Foundation
import KtrdrCore

/// A plugin by name and version: what a dispatched operation needs on its worker.
public struct PluginRef: Codable, Sendable, Equatable, Hashable {
    public var name: String
    public var version: String
    public init(name: String, version: String) {
        self.name = name
        self.version = version
    }
}

/// `POST /api/v1/worker/dispatch`: a backtest handed to a worker by a server. Everything it
/// needs travels with it: the strategy file's text, the data file by SHA-256 (pushed to the
/// worker's blob store beforehand), and the lease (attempt number and token) under which the
/// worker runs it. The worker refuses it when its plugin differs.
public struct DispatchRequest: Codable, Sendable, Equatable {
    public var run: StartRequest
    public var strategySource: String
    public var dataSha256: String
    public var plugin: PluginRef?
    /// The server's operation id (for logs on both sides).
    public var serverOperationId: String
    public var attempt: Int
    /// Proves the server's reads of this attempt; a worker's lease lapses without them.
    public var lease: String
    /// Seconds without a read from the server after which the worker stops this run itself.
    public var leaseSeconds: Double

    public init(run: StartRequest, strategySource: String, dataSha256: String, plugin: PluginRef?, serverOperationId: String,
                attempt: Int, lease: String, leaseSeconds: Double) {
        self.run = run
        self.strategySource = strategySource
        self.dataSha256 = dataSha256
        self.plugin = plugin
        self.serverOperationId = serverOperationId
        self.attempt = attempt
        self.lease = lease
        self.leaseSeconds = leaseSeconds
    }
}

extension DispatchRequest: StrictFields {
    public static let fieldNames = ["run", "strategy_source", "data_sha256", "plugin", "server_operation_id", "attempt", "lease", "lease_seconds"]
}

/// Where a remote operation runs: stored in the server's record, so that a restarted server
/// re-adopts it.
public struct RemoteAssignment: Codable, Sendable, Equatable {
    public var workerUrl: String
    public var remoteOperationId: String
    public var attempt: Int
    public var lease: String
    /// The worker process (`pid-start`) it was dispatched to.
    public var workerInstance: String?
    public init(workerUrl: String, remoteOperationId: String, attempt: Int, lease: String, workerInstance: String? = nil) {
        self.workerUrl = workerUrl
        self.remoteOperationId = remoteOperationId
        self.attempt = attempt
        self.lease = lease
        self.workerInstance = workerInstance
    }
}

/// What a worker says of itself: in `/health`, and in its registration heartbeat to a server.
public struct WorkerInfo: Codable, Sendable, Equatable {
    /// The URL the server reaches it at.
    public var url: String
    public var version: String
    public var capacity: Int
    public var running: Int
    public var pending: Int
    public var plugins: [PluginRef]
    /// SHA-256 of the data files in its blob store.
    public var blobs: [String]
    /// Changes when the worker process restarts (its start time and pid).
    public var instance: String

    public init(url: String, version: String, capacity: Int, running: Int, pending: Int, plugins: [PluginRef], blobs: [String], instance: String) {
        self.url = url
        self.version = version
        self.capacity = capacity
        self.running = running
        self.pending = pending
        self.plugins = plugins
        self.blobs = blobs
        self.instance = instance
    }
}

/// A registration naming a field this server does not know is refused (400 naming it).
extension WorkerInfo: StrictFields {
    public static let fieldNames = ["url", "version", "capacity", "running", "pending", "plugins", "blobs", "instance"]
}

/// The server's view of one worker (`GET /api/v1/workers`).
public struct WorkerStatus: Codable, Sendable, Equatable {
    public var url: String
    /// `static` (from the configuration) or `registered` (heartbeats).
    public var source: String
    public var healthy: Bool
    public var lastSeen: String?
    public var lastError: String?
    /// Operations this server has running there.
    public var assigned: Int
    public var info: WorkerInfo?

    public init(url: String, source: String, healthy: Bool, lastSeen: String?, lastError: String?, assigned: Int, info: WorkerInfo?) {
        self.url = url
        self.source = source
        self.healthy = healthy
        self.lastSeen = lastSeen
        self.lastError = lastError
        self.assigned = assigned
        self.info = info
    }
}

/// `POST /api/v1/worker/trials`: some of a sweep's trials, run by a worker and answered in
/// one response. Each trial is the sweep's run with the named parameters set to its values.
public struct TrialBatch: Codable, Sendable, Equatable {
    /// The fields every trial shares (the sweep's `run`, fixed `params` included).
    public var run: StartRequest
    public var strategySource: String
    public var dataSha256: String
    public var plugin: PluginRef?
    /// The sweep's parameter names, in the order of each trial's values.
    public var names: [String]
    public var trials: [Entry]
    public var serverOperationId: String

    /// One trial: its index in the sweep and its values.
    public struct Entry: Codable, Sendable, Equatable {
        public var index: Int
        public var values: [Double]
        public init(index: Int, values: [Double]) {
            self.index = index
            self.values = values
        }
    }

    public init(run: StartRequest, strategySource: String, dataSha256: String, plugin: PluginRef?, names: [String], trials: [Entry], serverOperationId: String) {
        self.run = run
        self.strategySource = strategySource
        self.dataSha256 = dataSha256
        self.plugin = plugin
        self.names = names
        self.trials = trials
        self.serverOperationId = serverOperationId
    }
}

extension TrialBatch: StrictFields {
    public static let fieldNames = ["run", "strategy_source", "data_sha256", "plugin", "names", "trials", "server_operation_id"]
}
