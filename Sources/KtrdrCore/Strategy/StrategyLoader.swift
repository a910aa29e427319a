import Foundation
import Yams

/// Loads and validates strategy files. Validation is strict and complete: every problem is
/// collected with its YAML path and line, and reported together.
public enum StrategyLoader {
    /// `strategies/{name}.yaml` under `directory`, after checking the name.
    public static func path(for name: String, in directory: String) throws(KtrdrError) -> String {
        try Names.check(name, field: "strategy_name")
        return (directory as NSString).appendingPathComponent("\(name).yaml")
    }

    /// Parses and validates YAML text with `overrides` written in: the result's `source` is the
    /// effective text. Issues on overridden paths say what was given.
    public static func parse(_ text: String, fileName: String, expectedName: String?, overrides: StrategyOverrides) throws(KtrdrError) -> StrategyConfig {
        guard !overrides.isEmpty else { return try parse(text, fileName: fileName, expectedName: expectedName) }
        let effective = try overrides.apply(to: text, fileName: fileName)
        do throws(KtrdrError) {
            return try parse(effective, fileName: fileName, expectedName: expectedName)
        } catch {
            throw overrides.explain(error)
        }
    }

    /// Parses and validates YAML text. `expectedName` is the file stem `name:` must equal.
    public static func parse(_ text: String, fileName: String, expectedName: String?) throws(KtrdrError) -> StrategyConfig {
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            throw .strategyInvalid(file: fileName, issues: [Self.syntaxIssue(error)])
        }
        let r = YAMLReader()
        guard let root else { throw .strategyInvalid(file: fileName, issues: [ValidationIssue(path: "", message: "empty strategy file")]) }
        guard let top = r.mapping(root, "") else { throw .strategyInvalid(file: fileName, issues: r.issues) }
        r.checkKeys(top, allowed: ["name", "version", "description", "hypothesis", "plugin", "params", "data", "indicators",
                                   "fuzzy_sets", "model", "decisions", "training", "trading"], "")
        let name = r.string(r.require(top, "name", ""), "name")
        if let name, let expectedName, name != expectedName {
            r.fail("name", top["name"], "name '\(name)' must equal the file name '\(expectedName)'")
        }
        if let name, !Names.isValid(name) { r.fail("name", top["name"], "invalid name '\(name)': expected [A-Za-z0-9._-]{1,32}") }
        let version = r.value(top, "version").flatMap { r.string($0, "version") } ?? "1"
        let description = r.value(top, "description").flatMap { r.string($0, "description") } ?? ""
        let hypothesis = r.value(top, "hypothesis").flatMap { r.string($0, "hypothesis") }

        // The plugin and its parameters are checked by the plugin itself when it is created
        // (it owns its parameter names and ranges); here: a valid name and numeric values.
        let plugin = r.string(r.require(top, "plugin", ""), "plugin")
        if let plugin, !Names.isValid(plugin) {
            r.fail("plugin", top["plugin"], "invalid plugin name '\(plugin)': expected [A-Za-z0-9._-]{1,32}")
        }
        var params = [String: Double]()
        if let map = r.mapping(top["params"], "params") {
            for (keyNode, _) in map {
                guard let key = keyNode.string else { continue }
                if let v = r.double(map[key], "params.\(key)") { params[key] = v }
            }
        }

        var symbols = [String](), timeframes = [Timeframe](), history = 0
        if let data = r.mapping(r.require(top, "data", ""), "data") {
            r.checkKeys(data, allowed: ["symbols", "timeframes", "history_required"], "data")
            symbols = r.strings(r.require(data, "symbols", "data"), "data.symbols") ?? []
            for (i, s) in symbols.enumerated() where !Names.isValid(s) {
                r.fail("data.symbols[\(i)]", data["symbols"], "invalid symbol '\(s)': expected [A-Za-z0-9._-]{1,32}")
            }
            for (i, tf) in (r.strings(r.require(data, "timeframes", "data"), "data.timeframes") ?? []).enumerated() {
                if let t = Timeframe(rawValue: tf) { timeframes.append(t) } else {
                    r.fail("data.timeframes[\(i)]", data["timeframes"],
                           "unknown timeframe '\(tf)': expected one of \(Timeframe.allCases.map(\.rawValue).joined(separator: ", "))")
                }
            }
            history = data["history_required"].flatMap { r.int($0, "data.history_required", range: 0...1_000_000) } ?? 0
        }

        let indicators = IndicatorSection.parse(top["indicators"], r)
        let outputs = Set(indicators.flatMap { $0.outputNames })
        let fuzzy = FuzzySection.parse(top["fuzzy_sets"], knownOutputs: outputs, r)
        let model = top["model"].flatMap { RunSections.model($0, r) }
        let decisions = RunSections.decisions(top["decisions"], r)
        let training = top["training"].flatMap { RunSections.training($0, r) }
        let trading = RunSections.trading(top["trading"], r)

        if plugin == "neuro" {
            for key in ["indicators", "fuzzy_sets", "model", "training"] where top[key] == nil {
                r.fail(key, .mapping(top), "missing required section '\(key)' (the neuro plugin needs indicators, fuzzy_sets, model and training)")
            }
        }
        let maxLookback = indicators.map { $0.lookback }.max() ?? 0
        if top["data"]?["history_required"] != nil, history < maxLookback {
            r.fail("data.history_required", top["data"]?["history_required"],
                   "history_required \(history) is shorter than the longest indicator warm-up (\(maxLookback) bars)")
        }

        guard r.issues.isEmpty, let name, let plugin else { throw .strategyInvalid(file: fileName, issues: r.issues) }
        return StrategyConfig(name: name, version: version, description: description, hypothesis: hypothesis, plugin: plugin,
                              params: params, symbols: symbols, timeframes: timeframes,
                              historyRequired: max(history, maxLookback), indicators: indicators, fuzzySets: fuzzy,
                              model: model, decisions: decisions, training: training, trading: trading, source: text)
    }

    private static func syntaxIssue(_ error: Error) -> ValidationIssue {
        if let y = error as? YamlError {
            switch y {
            case let .scanner(_, problem, mark, _), let .parser(_, problem, mark, _), let .composer(_, problem, mark, _):
                return ValidationIssue(path: "", line: mark.line, message: "YAML syntax error: \(problem) (column \(mark.column))")
            default: break
            }
        }
        return ValidationIssue(path: "", message: "YAML syntax error: \(error)")
    }
}
