import ArgumentParser
import Foundation
import KtrdrAPI
import KtrdrClient
import KtrdrCore

/// `ktrdrctl walkforward run`: per window, a sweep on the training bars and its best on the
/// test bars right after; the test parts stitched into one out-of-sample record.
struct WalkForwardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "walkforward", abstract: "Walk-forward analysis as a daemon operation.",
                                                    subcommands: [Run.self])

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Choose parameters on each window's training bars, test them on the bars after.",
            discussion: """
                Windows are in bars (--train 1000) or calendar spans (--train 6mo: min, h, d, w, mo, y):
                --train in sample, then --test out of sample, the next window --step later (default
                --test). The first window starts after the longest warm-up any trial needs; test runs
                take their warm-up from before their window.
                Example: ktrdrctl walkforward run sma_crossover EURUSD 1h --param fast_period=5:30:5
                  --param slow_period=20:100:10 --where 'fast_period < slow_period' --train 1000 --test 500
                A strategy with a model (neuro_mean_reversion) takes no --param: each window trains its
                own model on its training bars and tests it on the bars after; the models are kept
                under the models directory and listed with --model-path names.
                """)

        @OptionGroup var daemon: DaemonOptions
        @OptionGroup var grid: SweepOptions
        @Option(help: "In sample per window: bars, or a span (6mo, 2w, 30d, 12h, 90min, 1y).") var train: String
        @Option(help: "Out of sample, right after the training part: bars or a span.") var test: String
        @Option(help: "Between window starts: bars or a span (default: --test).") var step: String?
        @Flag(help: "Print the result as JSON.") var json = false

        func validate() throws {
            for (name, value) in [("train", train), ("test", test), ("step", step)] {
                guard let value else { continue }
                do throws(KtrdrError) { _ = try WindowLength.parse(value, field: "--\(name)") } catch {
                    throw ValidationError(error.description)
                }
            }
        }

        func run() throws {
            let connection = try daemon.connect()
            var body = try grid.body()
            func length(_ text: String) -> Any {
                guard case let .bars(n)? = try? WindowLength.parse(text, field: "") else { return text }
                return n
            }
            body["train"] = length(train)
            body["test"] = length(test)
            if let step { body["step"] = length(step) }
            let record = try withClient { try connection.startWalkForward(body) }
            let id = record.operationId
            printError("operation \(id): walk-forward of \(grid.strategy) on \(grid.symbol) \(grid.timeframe), "
                + "\(record.metadata.walkForwardWindows ?? 0) windows, \(Format.grouped(record.progress.itemsTotal)) backtests")
            let interrupt = CancelOnInterrupt(operationId: id, daemon: daemon)
            defer { interrupt.disarm() }
            let bar = ProgressBar(enabled: KtrdrStdio.stderrIsTerminal && !json, label: "\(grid.strategy) \(grid.symbol) \(grid.timeframe)")
            let final = try withClient { try connection.watch(id) { r in bar.drawLine(force: r.status.isTerminal) { _ in r.progress.currentStep } } }
            bar.finish()
            let result = try withClient { try connection.walkForwardResult(id) }
            if json {
                print(String(decoding: try KtrdrJSON.encoder(pretty: true).encode(result), as: UTF8.self))
            } else {
                print(Self.table(result))
            }
            try exitUnlessCompleted(final)
        }

        static func table(_ r: WalkForwardResult) -> String {
            let models = r.windows.contains { $0.model != nil }
            var rows = [["WINDOW", "TRAIN", "TEST"] + r.parameters.map { $0.uppercased() } + ["IS " + r.rank.uppercased(), "OOS " + r.rank.uppercased(), "OOS RETURN %"]
                + (models ? ["MODEL (--model-path)"] : [])]
            let field = Metrics.Field.allCases.first { $0.json == r.rank }
            for w in r.windows {
                let params = r.parameters.map { p in w.params?[p].map { StrategyOverrides.Scalar.number($0).description } ?? "-" }
                let value = { (m: Metrics?) in field.flatMap { f in m?.value(f) }.map { Format.fixed($0, 3) } ?? "-" }
                rows.append(["\(w.index + 1)", "\(w.trainStart.prefix(10))..\(w.trainEnd.prefix(10))", "\(w.testStart.prefix(10))..\(w.testEnd.prefix(10))"]
                    + params + [value(w.inSample), value(w.outOfSample), w.outOfSample.map { Format.fixed($0.totalReturnPct, 2) } ?? (w.error?.code ?? "-")]
                    + (models ? [w.model ?? "-"] : []))
            }
            let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
            let last = rows[0].count - 1
            var out = rows.map { row in
                zip(row, widths).enumerated().map { Format.pad($0.element.0, $0.element.1, right: $0.offset > 2 && !(models && $0.offset == last)) }.joined(separator: "  ")
            }
            if let s = r.outOfSample {
                out.append("")
                out.append("out of sample, stitched: \(Format.grouped(s.bars)) bars, return \(Format.fixed(s.totalReturnPct, 2)) %, "
                    + "Sharpe \(Format.optional(s.sharpeRatio, 3)), max drawdown \(Format.fixed(s.maxDrawdownPct, 2)) %, \(s.trades) trades")
                out.append("walk-forward efficiency (mean OOS / mean IS annualised return): \(Format.optional(s.walkForwardEfficiency, 3))")
            }
            out.append("operation \(r.operationId) (\(r.status.rawValue)), \(r.windows.count) of \(r.windowsTotal) windows")
            return out.joined(separator: "\n")
        }
    }
}
