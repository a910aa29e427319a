import ArgumentParser
import Foundation
import KtrdrCore
import KtrdrPlugins
import Logging

/// Plugins and models loaded into ktrdrctl itself (`--local` runs, `models predict`).
struct LocalPluginOptions: ParsableArguments {
    @Option(help: "Directory of plugins (default: $KTRDR_PLUGINS_DIR, else the directory of ktrdrctl, where `swift build` puts them).")
    var pluginsDir: String?
    @Option(help: "Directory of trained models.")
    var modelsDir = ProcessInfo.processInfo.environment["KTRDR_MODELS_DIR"] ?? "models"

    var resolvedPluginsDir: String {
        pluginsDir ?? ProcessInfo.processInfo.environment["KTRDR_PLUGINS_DIR"] ?? PluginHost.executableDirectory
    }

    /// Loads the plugins; refused files are reported on stderr (the run goes on without them).
    func provider() -> StrategyProvider {
        var logger = Logger(label: "ktrdrctl.plugins")
        logger.logLevel = .critical
        let host = PluginHost(directory: resolvedPluginsDir, logger: logger)
        for problem in host.reload().problems where problem.file.contains("ktrdr_plugin") {
            printError("warning: plugin \(problem.file) refused: \(problem.message)")
        }
        return StrategyProvider(plugins: host, models: ModelStore(root: modelsDir, plugins: host))
    }
}
