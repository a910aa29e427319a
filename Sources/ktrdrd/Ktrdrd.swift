import ArgumentParser
import Foundation
import KtrdrCore
import KtrdrAPI
import KtrdrPlugins
import KtrdrServer
import Logging
import KtrdrDefaults

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
    @Option(help: "Seconds a running operation has to stop after a cancel request before it is ended as failed (cancel_timeout) and its run slot released (env KTRDR_CANCEL_GRACE_SECONDS).")
    var cancelGrace = Double(ProcessInfo.processInfo.environment["KTRDR_CANCEL_GRACE_SECONDS"] ?? "") ?? 10
    @Option(help: .hidden)
    var probePlugin: String?

    func run() async throws {
        // The child side of a plugin probe (PluginProbe): check one file, report, exit.
        if let probePlugin { throw ExitCode(PluginProbe.childMain(path: probePlugin)) }
        let level = Logger.Level(rawValue: logLevel) ?? .info
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
        let parts = http.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 2, let port = Int(parts.last!), (0...65535).contains(port) else {
            throw ValidationError("--http must be host:port, got '\(http)'")
        }
        config.httpHost = parts.dropLast().joined(separator: ":")
        config.httpPort = port
        config.apiToken = env["KTRDR_API_TOKEN"]
        config.dataDirectory = (dataDir as NSString).standardizingPath
        config.strategiesDirectory = (strategiesDir as NSString).standardizingPath
        config.modelsDirectory = (modelsDir as NSString).standardizingPath
        config.pluginsDirectory = ((pluginsDir ?? KtrdrDefaults.pluginsDirectory) as NSString).standardizingPath
        config.modelThreads = max(1, modelThreads)
        config.pluginProbe = PluginProbe(executable: KtrdrDefaults.executablePath)
        if let watchPlugins {
            guard watchPlugins >= 0.1 else { throw ValidationError("--watch-plugins must be at least 0.1 seconds, got \(watchPlugins)") }
            config.watchPlugins = watchPlugins
        }
        if let maxConcurrent { config.maxConcurrent = max(1, maxConcurrent) }
        config.retentionDays = retentionDays
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
}
