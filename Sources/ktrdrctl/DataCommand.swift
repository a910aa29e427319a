import ArgumentParser
import Foundation
import KtrdrAPI
import KtrdrCore
import KtrdrDefaults
import KtrdrFiles

struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "data", abstract: "Inspect and generate data.",
                                                    subcommands: [Generate.self, Check.self])

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write deterministic synthetic 1-minute bars (seeded GBM, 0.0001 tick) to data/<SYMBOL>_1m.csv.")
        @Option(help: "Number of bars.")
        var bars = 1_000_000
        @Option(help: "Random seed; the same seed and size give a byte-identical file.")
        var seed: UInt64 = 42
        @Option(help: "Symbol of the written file.")
        var symbol = "SYNTH"
        @Option(help: "Directory of data files.")
        var dataDir = KtrdrDefaults.dataDirectory

        func run() throws {
            do throws(KtrdrError) {
                try Names.check(symbol, field: "--symbol")
                guard bars >= 1 && bars <= 500_000_000 else { throw .invalidRequest("--bars must be in 1...500000000, got \(bars)") }
                let path = try Backtester.dataPath(symbol: symbol, timeframe: .m1, dataDirectory: dataDir)
                let started = KtrdrStdio.now()
                let bytes = try SyntheticData(bars: bars, seed: seed).write(to: path)
                print("wrote \(path): \(Format.grouped(bars)) bars, \(Format.fixed(Double(bytes) / 1e6, 1)) MB in \(Format.fixed(KtrdrStdio.now() - started, 2)) s")
            } catch {
                throw fail(error)
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Load a data file strictly and summarise it, or report the first defect.")
        @Argument(help: "Path of a CSV file.")
        var path: String

        func run() throws {
            do {
                let started = KtrdrStdio.now()
                let bars = try CSVLoader.load(path: path)
                let seconds = KtrdrStdio.now() - started
                guard let first = bars.timestamps.first, let last = bars.timestamps.last else {
                    print("\(path): header only, no bars")
                    return
                }
                print("\(path): \(Format.grouped(bars.count)) bars, \(UTCTime.iso(first)) → \(UTCTime.iso(last)), loaded in \(Format.fixed(seconds * 1000, 1)) ms")
            } catch {
                throw fail(error)
            }
        }
    }
}
