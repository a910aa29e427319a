import ArgumentParser
import Foundation
import KtrdrAPI
import KtrdrCore
import KtrdrDefaults
import KtrdrFiles

struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "data", abstract: "Import, check and generate data.",
                                                    subcommands: [Generate.self, Check.self, Import.self])

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
        static let configuration = CommandConfiguration(
            abstract: "Report every defect of a data file, and its gaps against the timeframe and the calendar.",
            discussion: """
                Defects (exit 3): rows that cannot be read, times out of order or repeated, zero or
                negative prices, OHLC inconsistencies (high below low, open or close outside them).
                Gaps are reported by class: weekend, overnight, holiday, unexplained. The timeframe
                comes from the file name (SYMBOL_1h.csv) unless --timeframe gives it. The strict
                loader a backtest uses runs too and says whether it accepts the file.
                """)
        @Argument(help: "Path of a CSV file.")
        var path: String
        @Option(help: "Timeframe the bars should follow (default: from the file name).") var timeframe: String?
        @Flag(help: "Print the report as JSON.") var json = false

        func run() throws {
            let tf: Timeframe?, data: Data
            do throws(KtrdrError) {
                tf = try timeframe.map { t throws(KtrdrError) in try Names.timeframe(t) } ?? Self.timeframe(ofFile: path)
                guard let contents = FileManager.default.contents(atPath: path) else {
                    throw FileManager.default.fileExists(atPath: path) ? .io(path: path, message: "cannot read the file")
                                                                     : .dataNotFound(path: path, available: Existing.dataSets(besides: path))
                }
                data = contents
            } catch {
                throw fail(error)
            }
            let audit = DataAudit.run(text: String(decoding: data, as: UTF8.self), timeframe: tf)
            let strict: String
            do throws(KtrdrError) {
                let bars = try CSVLoader.load(path: path)
                strict = "the strict loader accepts it (\(Format.grouped(bars.count)) bars)"
            } catch {
                strict = "the strict loader refuses it: \(error)"
            }
            if json {
                var object = try JSONSerialization.jsonObject(with: KtrdrJSON.encoder().encode(audit)) as? [String: Any] ?? [:]
                object["file"] = path
                object["defects"] = audit.defects
                object["strict_loader"] = strict
                print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]), as: UTF8.self))
            } else {
                print(Self.text(audit, path: path, strict: strict))
            }
            if audit.defects > 0 { throw ExitCode(ExitStatus.invalidInput) }
        }

        /// `1h` of `…/EURUSD_1h.csv`; nil when the name does not say.
        static func timeframe(ofFile path: String) -> Timeframe? {
            let set = KtrdrError.dataSet(path)
            return set.split(separator: " ").last.flatMap { Timeframe(rawValue: String($0)) }
        }

        static func text(_ a: DataAudit, path: String, strict: String) -> String {
            var out = ["\(path): \(Format.grouped(a.rows)) bars, \(a.first ?? "—") → \(a.last ?? "—")"
                + (a.barsPerYear.map { ", \(Format.fixed($0, 1)) bars a year" } ?? "") + (a.timeframe.map { " (\($0))" } ?? "")]
            let kinds: [(String, DataAudit.Findings)] = [("rows that cannot be read", a.unreadable), ("times out of order", a.outOfOrder),
                                                          ("repeated times", a.duplicates), ("zero or negative prices", a.nonPositivePrices),
                                                          ("OHLC inconsistencies", a.ohlcInconsistent)]
            for (name, f) in kinds {
                out.append("  \(name): \(f.count)")
                for finding in f.first.prefix(5) { out.append("    line \(finding.line): \(finding.message)") }
            }
            if a.timeframe == nil {
                out.append("  gaps: not checked (no timeframe in the file name; give --timeframe)")
            } else {
                let classes = ["weekend", "overnight", "holiday", "unexplained"].map { k in
                    let g = a.gaps[k] ?? DataAudit.GapClass()
                    return "\(k) \(Format.grouped(g.gaps)) (\(Format.grouped(g.missingBars)) bars)"
                }
                out.append("  gaps: " + classes.joined(separator: ", "))
                for g in a.largestGaps { out.append("    line \(g.line): \(g.from) → \(g.to), \(Format.grouped(g.missingBars)) bars missing (\(g.kind))") }
            }
            for w in a.warnings { out.append("  warning: \(w)") }
            out.append("  \(a.defects == 0 ? "no defects" : "\(a.defects) defects"); \(strict)")
            return out.joined(separator: "\n")
        }
    }
}
