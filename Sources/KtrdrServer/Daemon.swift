import Foundation
import Hummingbird
import KtrdrAPI
import KtrdrCore
import KtrdrOperations
import KtrdrPlugins
import Logging
import NIOCore
import ServiceLifecycle
import KtrdrFiles

/// Everything `ktrdrd` needs to start.
public struct DaemonConfig: Sendable {
    public var home: String
    public var httpHost = "127.0.0.1"
    public var httpPort = 8000
    public var apiToken: String?
    public var dataDirectory = "data"
    public var strategiesDirectory = "strategies"
    public var modelsDirectory = "models"
    /// Where strategy and model plugins (`*.so`) are loaded from.
    public var pluginsDirectory = "plugins"
    /// libtorch intra-op threads, set once when the model plugin loads.
    public var modelThreads = 1
    /// Seconds between rescans of the plugins directory (nil: only `plugins reload`).
    public var watchPlugins: Double?
    /// The cores this process may use: the cgroup CPU quota or cpuset under a container,
    /// as NIO reads it, not the host's count.
    public var maxConcurrent = System.coreCount
    public var retentionDays = 90
    /// Memory for parsed data files kept between requests (0 disables the cache).
    public var dataCacheMB = 1024
    /// Seconds a cancelled operation has to stop before it is ended as `cancel_timeout`.
    public var cancelGraceSeconds: Double = 10
    public var role = "server"
    /// `KTRDR_WORKER_TOKEN`: what servers and workers prove to each other.
    public var workerToken: String?
    /// A server: the workers it hands backtests to (nil: none, everything runs here).
    public var remote: RemoteConfig?
    /// A worker: the server it registers with, the URL it gives it, and how often.
    public var serverURL: String?
    public var advertiseURL: String?
    public var heartbeatSeconds: Double = 2
    /// HTTP on this Unix socket instead of TCP (a daemon's local worker processes).
    public var httpSocketPath: String?
    /// A worker's data blobs (default: `<home>/blobs`).
    public var blobsDirectory: String?
    /// A local worker process of another daemon: exits when that process is gone.
    public var parentPID: Int32?
    /// Backtests in worker processes of this daemon (`process`) or on its threads (`none`).
    public var isolation = "none"
    /// This executable (started again as worker processes).
    public var executablePath = ""
    /// Options passed on to worker processes (directories, cache, log level).
    public var workerArguments: [String] = []
    public var version = BuildInfo.version
    /// The log file `--log-file` opened (SIGHUP reopens it).
    public var logFile: String?
    /// Checks new plugin files in a child process before mapping them (nil: map directly).
    public var pluginProbe: PluginProbe?

    public init(home: String) { self.home = home }

    public var socketPath: String { home + "/run/ktrdrd.sock" }
    public var pidPath: String { home + "/run/ktrdrd.pid" }
    /// Without `KTRDR_API_TOKEN`: the token this daemon made for its mutating HTTP calls
    /// (0600, rewritten at each start; `ktrdrctl --url` reads it).
    public var httpTokenPath: String { home + "/run/http-token" }
    public var databasePath: String { home + "/ktrdr.db" }

    /// Loopback unless a token protects the API.
    /// The address HTTP binds. Without a token it must be loopback, decided on what the name
    /// resolves to (every address), not on how it is spelt: `127.evil.example` is not loopback.
    /// The numeric address is returned so the server binds exactly what was checked.
    public func checkBinding() throws -> String {
        guard httpSocketPath == nil else { return "" }  // a Unix socket, private to its owner
        guard (apiToken ?? "").isEmpty else { return httpHost }
        let addresses = Self.resolve(httpHost)
        guard !addresses.isEmpty else {
            throw ApiError(status: 400, code: "insecure_bind",
                           message: "cannot resolve '\(httpHost)' to check it is loopback: without KTRDR_API_TOKEN bind to 127.0.0.1, ::1 or localhost")
        }
        guard let first = addresses.first, addresses.allSatisfy(Self.isLoopback) else {
            throw ApiError(status: 400, code: "insecure_bind",
                           message: "refusing to listen on \(httpHost):\(httpPort) (\(addresses.joined(separator: ", "))) without KTRDR_API_TOKEN: set a token or bind to 127.0.0.1")
        }
        return first
    }

    /// Fails at once, naming the address, when another process holds the HTTP port (instead
    /// of a daemon whose socket answers while its HTTP side never started). Binds and closes a
    /// socket with the server's own SO_REUSEADDR, so a port in TIME_WAIT still counts as free.
    public func checkPortFree(_ host: String) throws {
        guard httpSocketPath == nil, httpPort != 0 else { return }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(httpPort), &hints, &list) == 0, let info = list else { return }  // the server names it
        defer { freeaddrinfo(list) }
        let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) != 0 || listen(fd, 1) != 0 {
            let reason = String(cString: strerror(errno))
            throw ApiError(status: 409, code: "port_in_use",
                           message: "cannot listen on \(httpHost):\(httpPort): \(reason); stop what holds it or choose another --http port")
        }
    }

    /// Numeric addresses `host` resolves to (getaddrinfo), in its order.
    static func resolve(_ host: String) -> [String] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0 else { return [] }
        defer { freeaddrinfo(list) }
        var out = [String]()
        var node = list
        while let n = node {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(n.pointee.ai_addr, n.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if !out.contains(text) { out.append(text) }
            }
            node = n.pointee.ai_next
        }
        return out
    }

    /// 127.0.0.0/8, ::1, and IPv4-mapped 127.x.
    static func isLoopback(_ address: String) -> Bool {
        address == "::1" || address.hasPrefix("127.") && address.split(separator: ".").count == 4 && address.allSatisfy { $0.isNumber || $0 == "." }
            || address.lowercased().hasPrefix("::ffff:127.")
    }
}

/// Wires the daemon in one place: store, operations, API service, HTTP server, control socket,
/// and graceful shutdown (SIGTERM/SIGINT or `daemon.shutdown`: running operations are
/// cancelled and recorded, then the servers stop).
public enum Daemon {
    public static func run(_ config: DaemonConfig, logger: Logger) async throws {
        let bindHost = try config.checkBinding()
        try config.checkPortFree(bindHost)
        let fm = FileManager.default
        let tightened = try StateDirectory.secure(config.home)
        if !tightened.isEmpty {
            logger.warning("state directory was readable by others; made private to its owner", metadata: ["paths": "\(tightened.joined(separator: ","))"])
        }
        Allocator.tuneForColumns()
        if config.isolation == "process" { mkdir(config.home + "/workers", 0o700) }  // before the plugin scan: its probe manifest lives there
        let store = try OperationStore(path: config.databasePath)
        let (interrupted, resumable) = try store.markInterrupted()
        if !interrupted.isEmpty {
            logger.warning("operations interrupted by the previous shutdown marked failed", metadata: ["operations": "\(interrupted.joined(separator: ","))"])
        }
        let removed = try store.applyRetention(days: config.retentionDays)
        if removed > 0 { logger.info("retention applied", metadata: ["deleted": "\(removed)", "days": "\(config.retentionDays)"]) }

        let plugins = PluginHost(directory: config.pluginsDirectory, modelThreads: config.modelThreads, logger: logger,
                                 probe: config.pluginProbe)
        let report = plugins.reload()
        logger.info("plugins loaded", metadata: ["directory": "\(config.pluginsDirectory)",
                                                 "loaded": "\(report.loaded.map { "\($0.name) \($0.version)" }.joined(separator: ", "))",
                                                 "refused": "\(report.problems.count)"])
        let strategies = StrategyProvider(plugins: plugins, models: ModelStore(root: config.modelsDirectory, plugins: plugins))
        var operationsConfig = OperationsConfig(
            dataDirectory: config.dataDirectory, strategiesDirectory: config.strategiesDirectory, strategies: strategies,
            maxConcurrent: config.maxConcurrent, retentionDays: config.retentionDays,
            dataCache: config.dataCacheMB > 0 ? DataCache(capacityBytes: config.dataCacheMB << 20) : nil)
        operationsConfig.cancelGraceSeconds = config.cancelGraceSeconds
        operationsConfig.remote = config.remote
        var pool: ChildPool?
        if config.isolation == "process" {
            let token = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
            let base = config.home + "/workers"
            let launch = ChildPool.Launch(executable: config.executablePath, base: base, count: config.maxConcurrent,
                                          arguments: config.workerArguments, token: token)
            let p = try ChildPool(launch: launch, directory: WorkerDirectory(config: try ChildPool.remoteConfig(base: base, token: token)), logger: logger)
            await p.start()
            let ready = await p.directory.waitReady(config.maxConcurrent, timeout: 20)
            logger.info("worker processes ready", metadata: ["ready": "\(ready)", "of": "\(config.maxConcurrent)", "base": "\(base)"])
            operationsConfig.isolation = p
            pool = p
        }
        if config.role == "worker" { operationsConfig.blobs = try BlobStore(directory: config.blobsDirectory ?? config.home + "/blobs") }
        let manager = OperationManager(store: store, config: operationsConfig, logger: logger)
        for sweep in resumable { await manager.resume(sweep) }
        var service = ApiService(manager: manager, strategiesDirectory: config.strategiesDirectory, version: config.version)
        let recycle: @Sendable (PluginHost.ReloadReport) -> Void = { [pool] report in
            if let pool, !report.loaded.isEmpty { Task { await pool.recycle() } }
        }
        service.afterReload = recycle
        service.role = config.role
        service.advertisedURL = config.advertiseURL ?? "http://\(bindHost.contains(":") ? "[\(bindHost)]" : bindHost):\(config.httpPort)"
        let metrics = DaemonMetrics()
        let startedAt = Date()
        let trigger = ShutdownTrigger()
        let control = DaemonControl(
            status: {
                let (running, pending) = await manager.counts()
                return DaemonStatus(version: config.version, pid: getpid(), startedAt: UTCTime.iso(Int64(startedAt.timeIntervalSince1970)),
                                    uptimeSeconds: Date().timeIntervalSince(startedAt), home: config.home, socket: config.socketPath,
                                    http: "\(config.httpHost):\(config.httpPort)", database: config.databasePath,
                                    running: running, pending: pending, capacity: config.maxConcurrent)
            },
            shutdown: { trigger.fire() })

        // No configured token: reads stay open on loopback, mutating calls need this home's own
        // token, so another local user cannot start, cancel or reload anything. (HTTP on a
        // Unix socket is private by its mode: nothing to add there.)
        var token = config.apiToken.flatMap { $0.isEmpty ? nil : $0 }
        let openReads = token == nil && config.httpSocketPath == nil
        if openReads { token = try StateDirectory.writeSecret(at: config.httpTokenPath) }
        let http = HTTPServer.makeApplication(service: service, metrics: metrics, host: bindHost, port: config.httpPort,
                                              token: token, openReads: openReads, workerToken: config.workerToken,
                                              socketPath: config.httpSocketPath, logger: logger)
        let socket = ControlSocketService(path: config.socketPath, service: service, control: control, logger: logger)
        let operations = OperationsService(manager: manager, logger: logger)
        var services: [any Service] = [http, socket, operations]
        if let interval = config.watchPlugins {
            services.append(PluginWatchService(plugins: plugins, interval: interval, logger: logger, afterReload: recycle))
        }
        if let pool { services.append(WorkerPoolService(pool: pool)) }
        services.append(HangupService(logFile: config.logFile, reload: { [service] in service.reloadPlugins() }, logger: logger))
        if let parent = config.parentPID { services.append(ParentWatchService(parent: parent, trigger: trigger, logger: logger)) }
        if config.role == "worker", let server = config.serverURL {
            services.append(HeartbeatService(serverURL: server, token: config.workerToken, interval: config.heartbeatSeconds, service: service, logger: logger))
        }
        if let workers = manager.workers { services.append(WorkerPruneService(workers: workers, logger: logger)) }
        let group = ServiceGroup(configuration: .init(services: services,
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        trigger.install { await group.triggerGracefulShutdown() }
        try "\(getpid())\n".write(toFile: config.pidPath, atomically: true, encoding: .utf8)
        defer { try? fm.removeItem(atPath: config.pidPath) }
        let mode = config.remote.map { $0.remoteByDefault ? "remote" : "local (remote on request)" } ?? "local"
        let workers = config.remote.map { $0.workers.isEmpty ? "registered only" : $0.workers.joined(separator: ",") } ?? "none"
        logger.info("ktrdrd started", metadata: ["role": "\(config.role)", "mode": "\(mode)", "workers": "\(workers)", "pid": "\(getpid())", "home": "\(config.home)",
                                                 "http": "\(config.httpHost):\(config.httpPort)", "socket": "\(config.socketPath)",
                                                 "max_concurrent": "\(config.maxConcurrent)"])
        try await group.run()
        logger.info("ktrdrd stopped")
    }
}

/// Lets `daemon.shutdown` start the same graceful shutdown as SIGTERM.
final class ShutdownTrigger: Sendable {
    private let action = LockedBox<(@Sendable () async -> Void)?>(nil)
    func install(_ a: @escaping @Sendable () async -> Void) { action.set(a) }
    func fire() {
        guard let a = action.get() else { return }
        Task { await a() }
    }
}

/// A tiny lock-protected slot.
final class LockedBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T
    init(_ v: T) { value = v }
    func get() -> T { lock.lock(); defer { lock.unlock() }; return value }
    func set(_ v: T) { lock.lock(); value = v; lock.unlock() }
}

/// Serves the control socket until graceful shutdown, then removes the socket file.
struct ControlSocketService: Service {
    let path: String
    let service: ApiService
    let control: DaemonControl
    let logger: Logger

    func run() async throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            try await cancelWhenGracefulShutdown {
                try await ControlSocketServer.run(path: path, service: service, control: control, logger: logger)
            }
        } catch is CancellationError {
            logger.info("control socket closed")
        }
    }
}

/// On graceful shutdown, cancels running and pending operations and waits for them to be recorded.
struct OperationsService: Service {
    let manager: OperationManager
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        let (running, pending) = await manager.counts()
        logger.info("shutting down: cancelling operations", metadata: ["running": "\(running)", "pending": "\(pending)"])
        await manager.cancelAll(timeout: 10)
    }
}
