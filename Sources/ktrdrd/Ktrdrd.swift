import ArgumentParser
import Foundation
import KtrdrCore
import KtrdrAPI
import KtrdrPlugins
import KtrdrOperations
import KtrdrServer
import Logging
import KtrdrDefaults
import KtrdrFiles

/// `ktrdrd`: the backtesting daemon.
@main
struct Ktrdrd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ktrdrd",
        abstract: "Run backtests as asynchronous operations behind an HTTP API and a control socket.",
        discussion: """
            State (SQLite history, control socket, pid file) lives in --home (env KTRDR_HOME, default ~/.ktrdr).
            HTTP listens on loopback unless KTRDR_API_TOKEN is set; clients then send `Authorization: Bearer <token>`.
            SIGTERM or `ktrdrctl daemon stop` cancels running operations, records them, and exits.
            """,
        version: "ktrdrd \(BuildInfo.version) (Swift \(BuildInfo.swiftVersion), plugin ABI \(PluginDescriptor.hostABI))")

    /// ArgumentParser's entry point with usage errors on exit 2, as ktrdrctl (not its default 64).
    static func main() async {
        Allocator.tuneForColumns()  // first, before any thread has its own arena
        do {
            var command = try parseAsRoot()
            if var async = command as? AsyncParsableCommand { try await async.run() } else { try command.run() }
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }

    @Option(help: "State directory (default: $KTRDR_HOME or ~/.ktrdr).")
    var home: String?
    @Option(help: "HTTP address host:port.")
    var http = ProcessInfo.processInfo.environment["KTRDR_HTTP"] ?? "127.0.0.1:8000"
    @Option(help: "Role: server or worker.")
    var role = "server"
    @Option(help: "Directory of data files.")
    var dataDir = KtrdrDefaults.dataDirectory
    @Option(help: "Directory of strategy files.")
    var strategiesDir = KtrdrDefaults.strategiesDirectory
    @Option(help: "Directory of trained models (models/{strategy}/{SYMBOL}_{tf}_v{N}).")
    var modelsDir = KtrdrDefaults.modelsDirectory
    @Option(help: "Directory of plugins (*.so) (default: $KTRDR_PLUGINS_DIR, else the directory of this executable, where `swift build` puts them).")
    var pluginsDir: String?
    @Option(help: "Rescan the plugins directory every N seconds and load rebuilt plugins (default: only on `ktrdrctl plugins reload`).")
    var watchPlugins: Double?
    @Option(help: "libtorch intra-op threads for model inference and training, set once at startup.")
    var modelThreads = 1
    @Option(help: "Operations run at once (default: the cores this process may use, cgroup CPU limit included); the rest wait pending.")
    var maxConcurrent: Int?
    @Option(help: "Days to keep finished operations.")
    var retentionDays = 90
    @Option(help: "MiB of parsed data files kept in memory between requests (a file edited on disk is re-read); 0 disables.")
    var dataCacheMb = 1024
    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel = "info"
    @Option(help: "Append the log to this file (0600) instead of standard error; SIGHUP reopens it (for logrotate).")
    var logFile: String?
    @Option(help: "Seconds a running operation has to stop after a cancel request before it is ended as failed (cancel_timeout) and its run slot released (env KTRDR_CANCEL_GRACE_SECONDS).")
    var cancelGrace = Double(ProcessInfo.processInfo.environment["KTRDR_CANCEL_GRACE_SECONDS"] ?? "") ?? 10
    @Option(name: .customLong("worker"), help: "A server: a worker URL to hand backtests to (repeatable; also REMOTE_BACKTEST_SERVICE_URL, comma-separated). Backtests run there when the request says mode remote, or always with USE_REMOTE_BACKTEST_SERVICE=true.")
    var workers: [String] = []
    @Flag(help: "A server: accept workers that register themselves (worker --server URL); needs KTRDR_WORKER_TOKEN.")
    var acceptWorkers = false
    @Option(help: "A server: further attempts on another worker after one is lost (default 0: the operation fails with worker_lost).")
    var remoteRetries = 0
    @Option(help: "Seconds a worker may stay unreachable before its operations are lost; also the lease a worker grants each dispatched run.")
    var workerDeadline = 10.0
    @Option(help: "A worker: the server to register with and heartbeat to (http://host:port).")
    var server: String?
    @Option(help: "A worker: the URL the server reaches it at (default: http://<--http>).")
    var advertiseUrl: String?
    @Option(help: "A worker: seconds between heartbeats to --server.")
    var heartbeat = 2.0
    @Option(help: "Run backtests in supervised worker processes of this daemon (process: a crashing plugin ends one operation, not the daemon; +3 to +17 ms per job) or on its own threads (none, the default). Env KTRDR_ISOLATION.")
    var isolation = ProcessInfo.processInfo.environment["KTRDR_ISOLATION"] ?? "none"
    @Option(help: "A worker: where data files sent by servers are kept (default: <home>/blobs).")
    var blobsDir: String?
    @Option(help: .hidden)
    var probePlugin: String?
    @Option(help: .hidden)
    var childOf: Int32?
    @Option(help: .hidden)
    var pluginManifest: String?

    func run() async throws {
        // The child side of a plugin probe (PluginProbe): check one file, report, exit.
        if let probePlugin { throw ExitCode(PluginProbe.childMain(path: probePlugin)) }
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical; got '\(logLevel)'")
        }
        if let logFile { try LogFile.redirect(to: logFile) }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "ktrdrd")
        let env = ProcessInfo.processInfo.environment
        var config = DaemonConfig(home: home ?? KtrdrDefaults.home)
        guard role == "server" || role == "worker" else { throw ValidationError("--role must be server or worker, got '\(role)'") }
        config.role = role
        umask(0o077)  // state, sockets and results private to their owner
        if http.hasPrefix("unix:/") {
            config.httpSocketPath = String(http.dropFirst(5))
        }
        let parts = http.hasPrefix("unix:/") ? ["127.0.0.1", "0"] : http.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2, let port = Int(parts.last!), (0...65535).contains(port) else {
            throw ValidationError("--http must be host:port, got '\(http)'")
        }
        config.httpHost = parts.dropLast().joined(separator: ":")
        config.httpPort = port
        let workerToken = env["KTRDR_WORKER_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        config.workerToken = workerToken
        // A worker's every call is the server's: its API token is the worker token.
        config.apiToken = role == "worker" ? (workerToken ?? env["KTRDR_API_TOKEN"]) : env["KTRDR_API_TOKEN"]
        try configureRemote(&config, env: env)
        config.dataDirectory = (dataDir as NSString).standardizingPath
        config.strategiesDirectory = (strategiesDir as NSString).standardizingPath
        config.modelsDirectory = (modelsDir as NSString).standardizingPath
        config.pluginsDirectory = ((pluginsDir ?? KtrdrDefaults.pluginsDirectory) as NSString).standardizingPath
        config.modelThreads = max(1, modelThreads)
        // A daemon's own worker processes load what their parent already probed.
        let manifest = pluginManifest ?? (isolation == "process" ? (home ?? KtrdrDefaults.home) + "/workers/probed.json" : nil)
        config.pluginProbe = PluginProbe(executable: KtrdrDefaults.executablePath, manifest: manifest)
        config.parentPID = childOf
        config.blobsDirectory = blobsDir.map { ($0 as NSString).standardizingPath }
        guard isolation == "none" || isolation == "process" else { throw ValidationError("--isolation must be process or none, got '\(isolation)'") }
        if role == "worker", childOf == nil, isolation == "process" {
            throw ValidationError("--isolation process is a server's option (its operations in supervised worker processes); a --role worker runs them on its own threads: drop --isolation (or KTRDR_ISOLATION) for the worker, or run it under a supervisor that restarts it")
        }
        config.isolation = role == "server" && childOf == nil ? isolation : "none"
        config.executablePath = KtrdrDefaults.executablePath
        config.workerArguments = ["--data-dir", config.dataDirectory, "--strategies-dir", config.strategiesDirectory, "--models-dir", config.modelsDirectory,
                                  "--plugins-dir", config.pluginsDirectory, "--data-cache-mb", "\(max(0, dataCacheMb))", "--log-level", "warning",
                                  "--model-threads", "\(max(1, modelThreads))"] + (manifest.map { ["--plugin-manifest", $0] } ?? [])
        if let watchPlugins {
            guard watchPlugins >= 0.1 else { throw ValidationError("--watch-plugins must be at least 0.1 seconds, got \(watchPlugins)") }
            config.watchPlugins = watchPlugins
        }
        if let maxConcurrent { config.maxConcurrent = max(1, maxConcurrent) }
        config.retentionDays = retentionDays
        config.logFile = logFile.map { ($0 as NSString).standardizingPath }
        config.dataCacheMB = max(0, dataCacheMb)
        guard cancelGrace >= 0.1 else { throw ValidationError("--cancel-grace must be at least 0.1 seconds, got \(cancelGrace)") }
        config.cancelGraceSeconds = cancelGrace
        do {
            try await Daemon.run(config, logger: logger)
        } catch {
            logger.critical("ktrdrd cannot start: \(error)")
            throw ExitCode(1)
        }
    }

    /// Workers for a server (options and the original's environment variables), the server
    /// for a worker.
    private func configureRemote(_ config: inout DaemonConfig, env: [String: String]) throws {
        let listed = (env["REMOTE_BACKTEST_SERVICE_URL"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let urls = workers + listed
        for url in urls + [server, advertiseUrl].compactMap({ $0 }) {
            guard let u = URL(string: url), u.scheme == "http", let host = u.host, !host.isEmpty else {
                throw ValidationError("worker and server URLs must be http://host:port, got '\(url)'")
            }
        }
        // An option of the other role would be silently ignored: refuse it.
        if role == "server", server != nil || advertiseUrl != nil {
            throw ValidationError("--server and --advertise-url are worker options (start with --role worker); a server lists workers with --worker URL")
        }
        if role == "worker", !workers.isEmpty || acceptWorkers || remoteRetries != 0 {
            throw ValidationError("--worker, --accept-workers and --remote-retries are server options; a worker finds its server with --server URL")
        }
        let useRemote = ["true", "1", "yes"].contains((env["USE_REMOTE_BACKTEST_SERVICE"] ?? "").lowercased())
        guard workerDeadline >= 0.5 else { throw ValidationError("--worker-deadline must be at least 0.5 seconds, got \(workerDeadline)") }
        guard remoteRetries >= 0 else { throw ValidationError("--remote-retries must be >= 0, got \(remoteRetries)") }
        if role == "server", !urls.isEmpty || acceptWorkers || useRemote {
            if useRemote, urls.isEmpty, !acceptWorkers {
                throw ValidationError("USE_REMOTE_BACKTEST_SERVICE=true needs workers: REMOTE_BACKTEST_SERVICE_URL, --worker URL or --accept-workers")
            }
            if acceptWorkers, config.workerToken == nil { throw ValidationError("--accept-workers needs KTRDR_WORKER_TOKEN (registrations must carry it)") }
            var remote = RemoteConfig(workers: urls, remoteByDefault: useRemote, token: config.workerToken)
            remote.retries = remoteRetries
            remote.deadlineSeconds = workerDeadline
            remote.registrationTTL = max(3 * heartbeat, workerDeadline)
            config.remote = remote
        }
        if role == "worker" {
            guard heartbeat >= 0.1 else { throw ValidationError("--heartbeat must be at least 0.1 seconds, got \(heartbeat)") }
            if server != nil, config.workerToken == nil { throw ValidationError("--server needs KTRDR_WORKER_TOKEN (the server refuses registrations without it)") }
            config.serverURL = server
            config.advertiseURL = advertiseUrl
            config.heartbeatSeconds = heartbeat
        }
    }
}
