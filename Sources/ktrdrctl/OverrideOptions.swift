import ArgumentParser
import KtrdrCore

/// `--param name=number` and `--set path=value`: a run's values over the strategy file's.
struct OverrideOptions: ParsableArguments {
    @Option(name: .customLong("param"), help: ArgumentHelp("A plugin parameter for this run, over the file's (repeatable): --param fast_period=5.", valueName: "name=number"))
    var params: [String] = []
    @Option(name: .customLong("set"), help: ArgumentHelp("Any strategy-file field for this run, by its YAML path (repeatable): --set decisions.confidence_threshold=0.7.", valueName: "path=value"))
    var sets: [String] = []

    func validate() throws { _ = try overrides() }

    /// `--param` and `--set` as the strategy overrides they mean.
    func overrides() throws -> StrategyOverrides {
        var out = StrategyOverrides()
        for item in params {
            let (name, value) = try Self.split(item, option: "--param", what: "name=number")
            guard let number = Double(value), number.isFinite else {
                throw ValidationError("--param \(item): '\(value)' is not a number; plugin parameters are numbers (--param fast_period=5)")
            }
            guard out.params.updateValue(number, forKey: name) == nil else { throw ValidationError("--param \(name) is given twice") }
        }
        for item in sets {
            let (path, value) = try Self.split(item, option: "--set", what: "path=value")
            guard out.fields.updateValue(.parse(value), forKey: path) == nil else { throw ValidationError("--set \(path) is given twice") }
        }
        return out
    }

    private static func split(_ item: String, option: String, what: String) throws -> (String, String) {
        guard let eq = item.firstIndex(of: "="), eq != item.startIndex else {
            throw ValidationError("\(option) \(item): expected \(what)")
        }
        return (String(item[..<eq]), String(item[item.index(after: eq)...]))
    }

}
