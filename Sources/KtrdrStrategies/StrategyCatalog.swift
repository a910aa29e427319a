import KtrdrCore

/// The strategies that ship with ktrdrd, by plugin name: what each plugin target exports,
/// and what benchmarks and tests compile in directly to compare with the plugin path.
public enum StrategyCatalog {
    /// Builds a rule-based strategy from its validated file (`file` names it in errors).
    public static func make(_ config: StrategyConfig, file: String) throws(KtrdrError) -> any SignalStrategy {
        switch config.plugin {
        case SMACrossover.pluginName: return try SMACrossover(config: config, file: file)
        case RSIMeanReversion.pluginName: return try RSIMeanReversion(config: config, file: file)
        default: throw .unsupported("strategy '\(config.name)' names plugin '\(config.plugin)', which is not compiled in")
        }
    }

    /// A whole-number parameter >= 1.
    static func count(_ p: [String: Double], _ key: String, _ issues: inout [ValidationIssue]) -> Int {
        let v = p[key] ?? 0
        guard v >= 1, v.rounded() == v, v < 1e9 else {
            issues.append(ValidationIssue(path: "params.\(key)", message: "must be a whole number >= 1, got \(v)"))
            return 1
        }
        return Int(v)
    }
}
