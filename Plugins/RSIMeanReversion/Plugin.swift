import KtrdrCore
import KtrdrPluginKit
import KtrdrStrategies

/// The `rsi_mean_reversion` strategy plugin.
@_cdecl("ktrdr_plugin_descriptor")
public func ktrdrPluginDescriptor() -> UnsafeRawPointer {
    PluginKit.strategyPlugin(name: RSIMeanReversion.pluginName, version: "1.0.0",
                             description: "RSI crossing back through oversold/overbought") { (config, file, _) throws(KtrdrError) -> any SignalStrategy in
        try RSIMeanReversion(config: config, file: file)
    }
}
