import Foundation
import KtrdrAPI
import KtrdrCore
import Synchronization

/// The models directory (`models/{strategy}/{SYMBOL}_{timeframe}_v{N}/`, DOMAIN.md §5):
/// resolves `latest` or an explicit path, checks metadata against the strategy, and keeps
/// each model version loaded once.
public final class ModelStore: Sendable {
    public let root: String
    private let plugins: PluginHost
    private let loaded = Mutex<[String: (stamp: String, model: LoadedModel)]>([:])

    public init(root: String, plugins: PluginHost) {
        self.root = (root as NSString).standardizingPath
        self.plugins = plugins
    }

    /// `{strategy}/{SYMBOL}_{timeframe}_v` — the prefix of every version directory.
    static func prefix(symbol: String, timeframe: Timeframe) -> String { "\(symbol)_\(timeframe.rawValue)_v" }

    /// Existing versions for a strategy, symbol and timeframe, ascending.
    public func versions(strategy: String, symbol: String, timeframe: Timeframe) -> [Int] {
        let dir = (root as NSString).appendingPathComponent(strategy)
        let prefix = Self.prefix(symbol: symbol, timeframe: timeframe)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.compactMap { $0.hasPrefix(prefix) ? Int($0.dropFirst(prefix.count)) : nil }.filter { $0 > 0 }.sorted()
    }

    public func directory(strategy: String, symbol: String, timeframe: Timeframe, version: Int) -> String {
        ((root as NSString).appendingPathComponent(strategy) as NSString)
            .appendingPathComponent("\(Self.prefix(symbol: symbol, timeframe: timeframe))\(version)")
    }

    /// The directory of the model to use: an explicit `modelPath` (inside the models
    /// directory, as a version directory or its `model.pt`), else the highest version.
    public func resolve(strategy: String, symbol: String, timeframe: Timeframe, modelPath: String?) throws(KtrdrError) -> String {
        try Names.check(strategy, field: "strategy_name")
        try Names.check(symbol, field: "symbol")
        if let modelPath {
            let dir = try confine(modelPath)
            guard FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent("model.pt")) else {
                throw .modelNotFound(path: (dir as NSString).appendingPathComponent("model.pt"))
            }
            return dir
        }
        guard let latest = versions(strategy: strategy, symbol: symbol, timeframe: timeframe).last else {
            let pattern = directory(strategy: strategy, symbol: symbol, timeframe: timeframe, version: 0).dropLast() + "{N}"
            throw .modelNotFound(path: "\(pattern) (no trained version; run `ktrdrctl train \(strategy) \(symbol) \(timeframe.rawValue)`)")
        }
        return directory(strategy: strategy, symbol: symbol, timeframe: timeframe, version: latest)
    }

    /// A request's `model_path`, checked to stay inside the models directory.
    public func confine(_ modelPath: String) throws(KtrdrError) -> String {
        guard !modelPath.isEmpty, modelPath.utf8.count < 1024, !modelPath.contains("\0") else {
            throw .invalidRequest("model_path: expected a path inside \(root)")
        }
        var path = modelPath.hasPrefix("/") ? modelPath : (root as NSString).appendingPathComponent(modelPath)
        if (path as NSString).lastPathComponent == "model.pt" { path = (path as NSString).deletingLastPathComponent }
        guard !path.split(separator: "/").contains("..") else {
            throw .invalidRequest("model_path '\(modelPath)': '..' is not allowed; expected a path inside \(root)")
        }
        // Symlinks resolved on both sides (a link inside the directory may point anywhere).
        let resolved = Self.realPath(path), base = Self.realPath(root)
        guard resolved == base || resolved.hasPrefix(base + "/") else {
            throw .invalidRequest("model_path '\(modelPath)' is outside the models directory \(root)")
        }
        return (path as NSString).standardizingPath
    }

    /// `realpath` of the longest existing prefix, with the rest appended (the path need not exist).
    static func realPath(_ path: String) -> String {
        var existing = (path as NSString).standardizingPath
        var rest = [String]()
        while !existing.isEmpty, existing != "/" {
            if let r = realpath(existing, nil) {
                defer { free(r) }
                return ([String(cString: r)] + rest).joined(separator: "/")
            }
            rest.insert((existing as NSString).lastPathComponent, at: 0)
            existing = (existing as NSString).deletingLastPathComponent
        }
        return "/" + rest.joined(separator: "/")
    }

    /// Reads `metadata.json` of a version directory.
    public func metadata(directory: String) throws(KtrdrError) -> ModelMetadata {
        let file = (directory as NSString).appendingPathComponent("metadata.json")
        guard let data = FileManager.default.contents(atPath: file) else { throw .modelNotFound(path: file) }
        do { return try ModelMetadata.decode(data) } catch {
            throw .modelInvalid(path: file, message: "metadata.json is not valid: \(Self.describe(error))")
        }
    }

    /// The model of `directory`, loaded once per file version, after checking that its
    /// ordered feature list is exactly `features`.
    public func load(directory: String, features: [String]) throws(KtrdrError) -> LoadedModel {
        let meta = try metadata(directory: directory)
        guard meta.features == features else {
            throw .modelInvalid(path: (directory as NSString).appendingPathComponent("metadata.json"), message: """
                feature list differs from the strategy's.
                  model (\(meta.features.count)): \(meta.features.joined(separator: ", "))
                  strategy (\(features.count)): \(features.joined(separator: ", "))
                """)
        }
        guard meta.inputSize == features.count, meta.outputClasses == TrainingLabels.classes else {
            throw .modelInvalid(path: directory, message: "input_size \(meta.inputSize) / output_classes \(meta.outputClasses) do not fit \(features.count) features and [BUY, HOLD, SELL]")
        }
        let file = (directory as NSString).appendingPathComponent("model.pt")
        let attributes = try? FileManager.default.attributesOfItem(atPath: file)
        guard let attributes else { throw .modelNotFound(path: file) }
        let stamp = "\(attributes[.size] ?? 0)/\((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)/\(attributes[.systemFileNumber] ?? 0)"
        let plugin = try plugins.plugin(named: meta.modelPlugin, kind: .model)
        // Reused while the file, its metadata and the model plugin generation are unchanged.
        if let hit = loaded.withLock({ $0[file] }), hit.stamp == stamp, hit.model.metadata == meta, hit.model.plugin === plugin {
            return hit.model
        }
        let model = try LoadedModel(directory: directory, metadata: meta, plugin: plugin, file: file)
        loaded.withLock { $0[file] = (stamp, model) }
        return model
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case let DecodingError.keyNotFound(key, _): "missing field '\(key.stringValue)'"
        case let DecodingError.typeMismatch(_, c), let DecodingError.valueNotFound(_, c):
            "field '\(c.codingPath.map(\.stringValue).joined(separator: "."))': \(c.debugDescription)"
        case let DecodingError.dataCorrupted(c): c.debugDescription
        default: "\(error)"
        }
    }
}

extension ModelStore {
    /// Every version directory under the models root, with its metadata's key figures.
    public func list() -> [ModelSummary] {
        let fm = FileManager.default
        var out = [ModelSummary]()
        for strategy in ((try? fm.contentsOfDirectory(atPath: root)) ?? []).sorted() where !strategy.hasPrefix(".") {
            let dir = (root as NSString).appendingPathComponent(strategy)
            for name in ((try? fm.contentsOfDirectory(atPath: dir)) ?? []).sorted() where !name.hasPrefix(".") {
                let path = (dir as NSString).appendingPathComponent(name)
                do throws(KtrdrError) {
                    let m = try metadata(directory: path)
                    out.append(ModelSummary(path: path, strategy: strategy, version: m.version, symbol: m.symbol, timeframe: m.timeframe,
                                            features: m.features.count, valAccuracy: m.training.valAccuracy,
                                            testAccuracy: m.training.testAccuracy, createdAt: m.createdAt))
                } catch {
                    out.append(ModelSummary(path: path, strategy: strategy, problem: error.description))
                }
            }
        }
        return out
    }
}
