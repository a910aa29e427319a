import Foundation
import KtrdrCore

extension StrategyLoader {
    /// Loads `{directory}/{name}.yaml`.
    public static func load(name: String, directory: String, overrides: StrategyOverrides = .init()) throws(KtrdrError) -> StrategyConfig {
        let file = try path(for: name, in: directory)
        guard FileManager.default.fileExists(atPath: file) else { throw .strategyNotFound(name: name, path: file) }
        return try load(path: file, overrides: overrides)
    }

    /// The text of `{directory}/{name}.yaml` (what a run's SHA-256 is of) and its path.
    public static func text(name: String, directory: String) throws(KtrdrError) -> (path: String, text: String) {
        let file = try path(for: name, in: directory)
        guard FileManager.default.fileExists(atPath: file) else { throw .strategyNotFound(name: name, path: file) }
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
