import Foundation
import KtrdrCore

extension StrategyLoader {
    /// Loads `{directory}/{name}.yaml`.
    public static func load(name: String, directory: String, overrides: StrategyOverrides = .init()) throws(KtrdrError) -> StrategyConfig {
        let file = try path(for: name, in: directory)
        guard FileManager.default.fileExists(atPath: file) else { throw .strategyNotFound(name: name, path: file, available: Existing.strategies(in: directory)) }
        return try load(path: file, overrides: overrides)
    }

    /// The text of `{directory}/{name}.yaml` (what a run's SHA-256 is of) and its path.
    public static func text(name: String, directory: String) throws(KtrdrError) -> (path: String, text: String) {
        let file = try path(for: name, in: directory)
        guard FileManager.default.fileExists(atPath: file) else { throw .strategyNotFound(name: name, path: file, available: Existing.strategies(in: directory)) }
        return (file, try text(path: file))
    }

    static func text(path: String) throws(KtrdrError) -> String {
        do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw .io(path: path, message: "cannot read strategy file: \(error.localizedDescription)")
        }
    }

    /// The file at `path`, with `overrides` written in before every check (see `StrategyOverrides`).
    public static func load(path: String, overrides: StrategyOverrides = .init()) throws(KtrdrError) -> StrategyConfig {
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        return try parse(try text(path: path), fileName: path, expectedName: stem, overrides: overrides)
    }
}

/// What a directory does hold, for "not found" errors that list the alternatives.
public enum Existing {
    /// Strategy names (`*.yaml` stems) in `directory`, sorted.
    public static func strategies(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".yaml") && !$0.hasPrefix(".") }.map { String($0.dropLast(5)) }.sorted()
    }

    /// "SYMBOL timeframe" of the data files (`SYMBOL_timeframe.csv`) beside `path`, sorted.
    public static func dataSets(besides path: String) -> [String] {
        let directory = (path as NSString).deletingLastPathComponent
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory)) ?? []
        return names.filter { $0.hasSuffix(".csv") && $0.contains("_") && !$0.hasPrefix(".") }.map { KtrdrError.dataSet($0) }.sorted()
    }
}
