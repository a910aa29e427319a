import KtrdrCore
import KtrdrPluginKit
import KtrdrStrategies

/// The `sma_crossover` strategy plugin (SMA_CROSSOVER.md).
@_cdecl("ktrdr_plugin_descriptor")
public func ktrdrPluginDescriptor() -> UnsafeRawPointer {
    PluginKit.strategyPlugin(name: SMACrossover.pluginName, version: "1.0.0",
                             description: "Fast/slow SMA crossover, exact at ties") { (config, file, _) throws(KtrdrError) -> any SignalStrategy in
        try SMACrossover(config: config, file: file)
    }
}
