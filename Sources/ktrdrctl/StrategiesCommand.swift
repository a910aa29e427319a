import ArgumentParser
import Foundation
import KtrdrAPI
import KtrdrCore
import KtrdrDefaults
import KtrdrFiles

struct StrategiesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "strategies", abstract: "List and validate strategy files.",
                                                    subcommands: [List.self, Validate.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List strategies and whether each validates.")
        @Option(help: "Directory of strategy files.")
        var strategiesDir = KtrdrDefaults.strategiesDirectory

        func run() throws {
            let files = ((try? FileManager.default.contentsOfDirectory(atPath: strategiesDir)) ?? []).filter { $0.hasSuffix(".yaml") }.sorted()
            for file in files {
                let path = (strategiesDir as NSString).appendingPathComponent(file)
                do {
                    let c = try StrategyLoader.load(path: path)
                    print("\(Format.pad(c.name, 24)) \(Format.pad(c.plugin, 20)) v\(c.version)  \(c.description)")
                } catch {
                    print("\(Format.pad(String(file.dropLast(5)), 24)) INVALID: \(error)")
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

        func run() throws {
            do {
                let config = strategy.hasSuffix(".yaml") ? try StrategyLoader.load(path: strategy)
                    : try StrategyLoader.load(name: strategy, directory: strategiesDir)
                print("\(config.name): valid (plugin \(config.plugin), \(config.indicators.count) indicators, "
                    + "\(FeatureBuilder.featureNames(for: config).count) features, history_required \(config.historyRequired))")
            } catch {
                throw fail(error)
            }
        }
    }
}
