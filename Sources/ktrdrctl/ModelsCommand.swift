import ArgumentParser
import Foundation
import KtrdrAPI
import KtrdrCore
import KtrdrOperations
import KtrdrPlugins
import KtrdrDefaults
import KtrdrFiles

struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "models", abstract: "List trained models and run one on feature rows.",
                                                    subcommands: [List.self, Predict.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Model versions under the models directory, with their accuracies; each named as --model-path and models predict take it.")
        @Option(help: "Directory of trained models.")
        var modelsDir = KtrdrDefaults.modelsDirectory
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let store = ModelStore(root: modelsDir, plugins: PluginHost(directory: "/nonexistent"))
            // Paths relative to the models directory: what model_path, --model-path and predict take.
            let base = (modelsDir as NSString).standardizingPath + "/"
            let models = store.list().map { m -> ModelSummary in
                var m = m
                let full = (m.path as NSString).standardizingPath
                if full.hasPrefix(base) { m.path = String(full.dropFirst(base.count)) }
                return m
            }
            if json { return print(String(decoding: try KtrdrJSON.encoder(pretty: true).encode(models), as: UTF8.self)) }
            if models.isEmpty { printError("no trained models in \(modelsDir)") }
            for m in models {
                if let problem = m.problem { print("\(m.path)  INVALID: \(problem)"); continue }
                print(String(format: "%@  v%d  %@ %@  %d features  val_accuracy %.4f  test_accuracy %.4f  %@", m.path, m.version ?? 0,
                             m.symbol ?? "?", m.timeframe ?? "?", m.features ?? 0, m.valAccuracy ?? .nan, m.testAccuracy ?? .nan,
                             m.createdAt ?? ""))
            }
        }
    }

    /// Prints feature rows and the model's probabilities as JSON: what the Python cross-check
    /// (`torch.jit.load` on the same rows) compares against.
    struct Predict: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compute the strategy's features on the model's data file and print the last N rows with the model's probabilities (JSON).")
        @Argument(help: "A model version directory, as `models list` names it (relative to --models-dir), or a path inside it.")
        var model: String
        @Option(help: "Rows to print (the last complete ones).")
        var rows = 100
        @Option(help: "Directory of data files.")
        var dataDir = KtrdrDefaults.dataDirectory
        @Option(help: "Directory of strategy files.")
        var strategiesDir = KtrdrDefaults.strategiesDirectory
        @OptionGroup var plugins: LocalPluginOptions

        func run() throws {
            do {
                let provider = plugins.provider()
                let dir = try provider.models.confine(model)
                let meta = try provider.models.metadata(directory: dir)
                let config = try StrategyLoader.load(name: meta.strategy, directory: strategiesDir)
                let loaded = try provider.models.load(directory: dir, features: FeatureBuilder.featureNames(for: config))
                let tf = try Names.timeframe(meta.timeframe)
                let bars = try CSVLoader.load(path: try Backtester.dataPath(symbol: meta.symbol, timeframe: tf, dataDirectory: dataDir))
                let features = FeatureBuilder.build(config, bars: bars)
                let first = max(features.firstCompleteRow(), features.rows - max(1, rows))
                let x = Array(features.values[(first * features.columns)...])
                let n = features.rows - first
                let probabilities = try loaded.predict(x, rows: n)
                let classes = meta.outputClasses.count
                let out: [String: Any] = [
                    "model": dir, "features": meta.features, "classes": meta.outputClasses,
                    "x": (0..<n).map { r in Array(x[(r * features.columns)..<((r + 1) * features.columns)]) },
                    "probabilities": (0..<n).map { r in Array(probabilities[(r * classes)..<((r + 1) * classes)]) },
                ]
                let data = try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } catch let error as KtrdrError {
                throw fail(error)
            }
        }
    }
}
