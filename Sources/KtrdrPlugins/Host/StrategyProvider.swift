import Foundation
import KtrdrAPI
import KtrdrCore

/// Turns a validated strategy file into a running implementation: the current generation
/// of the plugin it names, lent its model when it has a `model:` section.
public struct StrategyProvider: Sendable {
    public let plugins: PluginHost
    public let models: ModelStore

    public init(plugins: PluginHost, models: ModelStore) {
        self.plugins = plugins
        self.models = models
    }

    /// Every check happens here, synchronously: plugin present and valid, model found,
    /// loadable and fitting the strategy's feature list, plugin accepting the configuration.
    public func make(_ config: StrategyConfig, file: String, symbol: String, timeframe: Timeframe,
                     modelPath: String?) throws(KtrdrError) -> PluginStrategy {
        let plugin = try plugins.plugin(named: config.plugin, kind: .strategy)
        var model: LoadedModel?
        if config.model != nil {
            let directory = try models.resolve(strategy: config.name, symbol: symbol, timeframe: timeframe, modelPath: modelPath)
            model = try models.load(directory: directory, features: FeatureBuilder.featureNames(for: config))
        } else if modelPath != nil {
            throw .invalidRequest("model_path: strategy '\(config.name)' has no model section; model_path applies to model-based strategies")
        }
        return try PluginStrategy(plugin: plugin, configText: config.source, configPath: file, model: model)
    }
}
