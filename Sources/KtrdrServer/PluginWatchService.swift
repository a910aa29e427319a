import KtrdrAPI
import KtrdrPlugins
import Logging
import ServiceLifecycle

/// `--watch-plugins SECONDS`: rescans the plugins directory on a timer, so a rebuild is picked
/// up without `ktrdrctl plugins reload`. A scan only stats the files; a file caught half
/// written fails its checks and is retried once it changes again.
struct PluginWatchService: Service {
    let plugins: PluginHost
    let interval: Double
    let logger: Logger
    var afterReload: (@Sendable (PluginHost.ReloadReport) -> Void)?

    func run() async throws {
        logger.info("watching plugins directory", metadata: ["directory": "\(plugins.directory)", "interval_s": "\(interval)"])
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(nanoseconds: UInt64(interval * 1e9))
            let report = plugins.reload()
            afterReload?(report)
            for p in report.loaded {
                logger.notice("plugin reloaded by the watch", metadata: ["name": "\(p.name)", "version": "\(p.version)", "generation": "\(p.generation)"])
            }
        }
    }
}
