import ArgumentParser
import Foundation
import KtrdrAPI
import KtrdrCore
import KtrdrDefaults
import KtrdrFiles
import KtrdrOperations
import KtrdrPlugins

struct StrategiesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "strategies", abstract: "List and validate strategy files.",
                                                    subcommands: [List.self, Validate.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List strategies and whether each validates.")
        @Option(help: "Directory of strategy files.")
        var strategiesDir = KtrdrDefaults.strategiesDirectory
        @Flag(help: "Print JSON (as GET /api/v1/strategies gives it).") var json = false

        func run() throws {
            let list = StrategyCatalog.list(directory: strategiesDir)
            if json { return print(String(decoding: try KtrdrJSON.encoder(pretty: true).encode(list), as: UTF8.self)) }
            if list.isEmpty { printError("no strategy files (*.yaml) in \(strategiesDir)") }
            for s in list {
                if s.valid {
                    print("\(Format.pad(s.name, 24)) \(Format.pad(s.plugin ?? "", 20)) v\(s.version ?? "?")  \(s.description ?? "")")
                } else {
                    print("\(Format.pad(s.name, 24)) INVALID: \(s.problems?.joined(separator: "; ") ?? "")")
                }
            }
        }
    }

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validate a strategy file; print every problem with its YAML path and line.")
        @Argument(help: "A strategy name or a path to a .yaml file.")
        var strategy: String
        @Option(help: "Directory of strategy files.")
        var strategiesDir = KtrdrDefaults.strategiesDirectory
        @OptionGroup var values: OverrideOptions
        @OptionGroup var plugins: LocalPluginOptions

        /// The file's checks, then the plugin's own (parameter names, ranges, fast < slow): the
        /// checks a run makes, with the same messages.
        func run() throws {
            let overrides = try values.overrides()
            do throws(KtrdrError) {
                let path = strategy.hasSuffix(".yaml") ? strategy : try StrategyLoader.path(for: strategy, in: strategiesDir)
                let config = strategy.hasSuffix(".yaml") ? try StrategyLoader.load(path: path, overrides: overrides)
                    : try StrategyLoader.load(name: strategy, directory: strategiesDir, overrides: overrides)
                var note = ""
                do throws(KtrdrError) {
                    let implementation = try plugins.provider().make(config, file: path, symbol: config.symbols.first ?? "",
                                                                     timeframe: config.timeframes.first ?? .d1, modelPath: nil)
                    note = ", plugin \(implementation.name) \(implementation.version) accepts it, warm-up \(implementation.warmupBars) bars"
                } catch let error where error.code == "model_not_found" {
                    note = "; the plugin's model check needs a trained model (\(error.description))"
                } catch {
                    throw overrides.explain(error)
                }
                print("\(config.name): valid (plugin \(config.plugin), \(config.indicators.count) indicators, "
                    + "\(FeatureBuilder.featureNames(for: config).count) features, history_required \(config.historyRequired)\(note))")
            } catch {
                throw fail(error)
            }
        }
    }
}
