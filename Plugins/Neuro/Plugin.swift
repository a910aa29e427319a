import KtrdrCore
import KtrdrPluginKit
import KtrdrStrategies

/// The `neuro` strategy plugin: indicators → fuzzy memberships → features → the model the
/// host lends (a `torch` model plugin) → signal and confidence. It does not link libtorch.
@_cdecl("ktrdr_plugin_descriptor")
public func ktrdrPluginDescriptor() -> UnsafeRawPointer {
    PluginKit.strategyPlugin(name: NeuroFuzzyStrategy.pluginName, version: "1.0.0",
                             description: "Neuro-fuzzy: fuzzified indicators into an MLP, batched inference") { (config, file, model) throws(KtrdrError) -> any SignalStrategy in
        guard let model else {
            throw .modelNotFound(path: "no model was given for strategy '\(config.name)' (it has a model: section)")
        }
        return try NeuroFuzzyStrategy(config: config, file: file,
                                      network: NeuralNetwork(inputSize: model.inputSize, outputSize: model.outputSize) {
                                          x, rows, cols, out throws(KtrdrError) in
                                          try model.predict(x, rows: rows, cols: cols, into: out)
                                      })
    }
}
