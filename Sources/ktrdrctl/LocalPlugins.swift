import ArgumentParser
import Foundation
import KtrdrAPI
import KtrdrCore
import KtrdrPlugins
import Logging
import KtrdrDefaults

/// Plugins and models loaded into ktrdrctl itself (`--local` runs, `models predict`).
struct LocalPluginOptions: ParsableArguments {
    @Option(help: "Directory of plugins (default: $KTRDR_PLUGINS_DIR, else the directory of ktrdrctl, where `swift build` puts them).")
    var pluginsDir: String?
    @Option(help: "Directory of trained models (default: $KTRDR_MODELS_DIR, else models).")
    var modelsDir: String?

    var resolvedPluginsDir: String {
        pluginsDir ?? KtrdrDefaults.pluginsDirectory
    }

    /// A host that loads plugins when a strategy or model asks for them (a plugin that is
    /// refused then is that run's error, with its reason).
    func provider() -> StrategyProvider {
        var logger = Logger(label: "ktrdrctl.plugins")
        logger.logLevel = .critical
        let host = PluginHost(directory: resolvedPluginsDir, logger: logger, onDemand: true)
        return StrategyProvider(plugins: host, models: ModelStore(root: modelsDir ?? KtrdrDefaults.modelsDirectory, plugins: host))
    }
}
