import ArgumentParser
import Foundation
import KtrdrAPI
import KtrdrClient
import KtrdrCore
import KtrdrOperations
import KtrdrDefaults
import KtrdrFiles
import Synchronization

struct BacktestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "backtest", abstract: "Run and cancel backtests.",
                                                    subcommands: [Run.self, Cancel.self])

    struct Cancel: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a backtest (idempotent).")
        @OptionGroup var daemon: DaemonOptions
        @Argument(help: "Operation id.") var operationId: String
        func run() throws {
            let r = try withClient { try daemon.connect().cancel(operationId) }
            print("\(r.operationId) \(r.status.rawValue)")
        }
    }

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a backtest and print its result table.",
            discussion: """
                Dates are YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC); --end is inclusive (a date alone
                means the whole day). Without --start the run starts at the file's first bar and the
                indicators warm up on its first bars; with --start, history_required bars before it
                are loaded for warm-up and every requested bar is traded.
                """)

        @Flag(help: "Run in this process, without a daemon.")
        var local = false
        @OptionGroup var daemon: DaemonOptions
        @OptionGroup var target: RunTarget
        var strategy: String { target.strategy }
        var symbol: String { target.symbol }
        var timeframe: String { target.timeframe }
        var start: String? { target.start }
        var end: String? { target.end }
        @Option(help: "Initial capital.")
        var capital: Double = 100_000
        @Option(help: "Commission, fraction of traded value per side.")
        var commission: Double = 0.001
        @Option(help: "Adverse slippage, fraction of price.")
        var slippage: Double = 0.0005
        @Option(help: "Daemon runs only: replay at most this many bars per second (watch a run unfold).")
        var pace: Double?
        @Flag(inversion: .prefixedNo, help: "Daemon runs only: run on one of the daemon's workers (mode remote), or --no-remote to run on the daemon itself (default: the daemon's).")
        var remote: Bool?
        @Flag(help: "Print the result as JSON (metrics and trades) instead of a table.")
        var json = false
        @Flag(help: "With --json, include the equity curve.")
        var withEquity = false
        @Option(help: "--local runs: directory of data files (default: $KTRDR_DATA_DIR, else data). A daemon reads its own.")
        var dataDir: String?
        @Option(help: "--local runs: directory of strategy files (default: $KTRDR_STRATEGIES_DIR, else strategies). A daemon reads its own.")
        var strategiesDir: String?
        @Option(help: "Model-based strategies: a model version directory (or its model.pt) under the models directory; default: the latest version.")
        var modelPath: String?
        @OptionGroup var plugins: LocalPluginOptions

        /// Options of the other kind of run are refused, not ignored.
        func validate() throws {
            let given: [(String, Bool)] = local
                ? [("--pace", pace != nil), (remote == false ? "--no-remote" : "--remote", remote != nil)]
                : [("--data-dir", dataDir != nil), ("--strategies-dir", strategiesDir != nil), ("--plugins-dir", plugins.pluginsDir != nil),
                   ("--models-dir", plugins.modelsDir != nil)]
            let wrong = given.filter(\.1).map(\.0)
            guard wrong.isEmpty else {
                throw ValidationError(local
                    ? "\(wrong.joined(separator: ", ")) apply to runs through the daemon, not --local"
                    : "\(wrong.joined(separator: ", ")) apply to --local runs; the daemon reads the directories it was started with (ktrdrctl daemon start --data-dir …)")
            }
        }

        func run() throws {
            guard local else { return try runThroughDaemon() }
            let dataDir = self.dataDir ?? KtrdrDefaults.dataDirectory
            let strategiesDir = self.strategiesDir ?? KtrdrDefaults.strategiesDirectory
            Allocator.tuneForColumns()
            do {
                let tf = try Names.timeframe(timeframe)
                let overrides = try target.overrides()
                let config = try StrategyLoader.load(name: strategy, directory: strategiesDir, overrides: overrides)
                var request = BacktestRequest(strategy: config, symbol: symbol, timeframe: tf,
                                              start: try start.map { s throws(KtrdrError) in try DateArgument.start(s, field: "--start") },
                                              end: try end.map { s throws(KtrdrError) in try DateArgument.end(s, field: "--end") })
                request.initialCapital = capital
                request.commission = commission
                request.slippage = slippage
                let implementation: any SignalStrategy
                do throws(KtrdrError) {
                    implementation = try plugins.provider().make(
                        config, file: try StrategyLoader.path(for: strategy, in: strategiesDir), symbol: symbol, timeframe: tf, modelPath: modelPath)
                } catch { throw overrides.explain(error) }
                let prepared = try Backtester.prepare(request, strategy: implementation, dataDirectory: dataDir)
                let bar = ProgressBar(enabled: KtrdrStdio.stderrIsTerminal && !json, label: "\(symbol) \(tf.rawValue)")
                let started = KtrdrStdio.now()
                let result = try Backtester.run(prepared, progress: bar.sink)
                bar.finish()
                let seconds = KtrdrStdio.now() - started
                try printResult(result, seconds: seconds)
            } catch let error as KtrdrError {
                throw fail(error)
            }
        }
    }
}

extension BacktestCommand.Run {
    /// The result as pretty JSON (`--json`, curve only with `--with-equity`) or as the table.
    func printResult(_ result: BacktestResult, seconds: Double) throws {
        guard json else { return print(ResultTable.render(result, seconds: seconds)) }
        var output = result
        if !withEquity { output.equityCurve = .empty }
        print(String(decoding: try KtrdrJSON.encoder(pretty: true).encode(output), as: UTF8.self))
    }

    /// Starts the backtest on the daemon, draws its progress, prints the result table.
    /// Ctrl-C cancels the operation, waits for `cancelled`, and exits 130.
    func runThroughDaemon() throws {
        let connection = try daemon.connect()
        var params = target.parameters
        params["initial_capital"] = capital
        params["commission"] = commission
        params["slippage"] = slippage
        if let pace { params["pace_bars_per_second"] = pace }
        if let remote { params["mode"] = remote ? "remote" : "local" }
        if let modelPath { params["model_path"] = modelPath }
        let began = KtrdrStdio.now()
        let record = try withClient { try connection.startBacktest(params) }
        let id = record.operationId
        if let bars = record.metadata.bars {
            printError("operation \(id): \(Format.grouped(bars)) bars (+\(record.metadata.warmupBars ?? 0) warm-up)")
        } else {
            printError("operation \(id): started; loading \(record.metadata.dataFile ?? "data")")
        }
        let interrupt = CancelOnInterrupt(operationId: id, daemon: daemon)
        defer { interrupt.disarm() }
        let bar = ProgressBar(enabled: KtrdrStdio.stderrIsTerminal && !json, label: "\(symbol) \(timeframe)")
        let started = KtrdrStdio.now()
        let final = try withClient { try connection.watch(id) { bar.draw($0) } }
        bar.finish()
        let watched = KtrdrStdio.now()
        defer {
            if ProcessInfo.processInfo.environment["KTRDR_TIMING"] != nil {
                printError(String(format: "timing: start %.0f ms, watch %.0f ms, results+print %.0f ms", (started - began) * 1000,
                                  (watched - started) * 1000, (KtrdrStdio.now() - watched) * 1000))
            }
        }
        switch final.status {
        case .completed:
            let result = try withClient { try connection.results(id, equityCurve: json && withEquity) }
            try printResult(result, seconds: KtrdrStdio.now() - began)
            if !json { print("\noperation \(id)") }
        default:
            try exitUnlessCompleted(final)
        }
    }
}

/// Strategy, symbol, timeframe and range: what a backtest or a training runs on.
struct RunTarget: ParsableArguments {
    @Argument(help: "Strategy name (strategies/<name>.yaml).")
    var strategy: String
    @Argument(help: "Symbol, e.g. GOOG (data/<SYMBOL>_<timeframe>.csv).")
    var symbol: String
    @Argument(help: "Timeframe: 1m 5m 15m 30m 1h 4h 1d 1w 1M (months).")
    var timeframe: String
    @Option(help: "First bar (UTC); default: the file's first bar.")
    var start: String?
    @Option(help: "Last bar, inclusive (UTC); default: the file's last bar.")
    var end: String?
    @OptionGroup var values: OverrideOptions

    func overrides() throws -> StrategyOverrides { try values.overrides() }

    /// The request fields they fill.
    var parameters: [String: Any] {
        var p: [String: Any] = ["strategy_name": strategy, "symbol": symbol, "timeframe": timeframe]
        if let start { p["start_date"] = start }
        if let end { p["end_date"] = end }
        if let o = try? overrides() {
            if !o.params.isEmpty { p["params"] = o.params }
            if !o.fields.isEmpty {
                p["overrides"] = o.fields.mapValues { v -> Any in
                    switch v { case let .number(n): n; case let .bool(b): b; case let .string(s): s }
                }
            }
        }
        return p
    }
}

/// A watched operation that did not complete: cancelled exits 130, failed exits 1.
func exitUnlessCompleted(_ final: OperationRecord) throws {
    switch final.status {
    case .completed: return
    case .cancelled:
        printError("operation \(final.operationId) cancelled")
        throw ExitCode(ExitStatus.cancelled)
    default:
        printError("error [\(final.error?.code ?? "failed")]: operation \(final.operationId) failed: \(final.error?.message ?? "")")
        throw ExitCode(ExitStatus.failure)
    }
}

/// On SIGINT: ask the daemon to cancel the operation; the watch then ends on `cancelled`,
/// which is reported once, and exits 130. A second Ctrl-C exits 130 at once.
final class CancelOnInterrupt: @unchecked Sendable {
    private let source: DispatchSourceSignal
    private let interrupts = Mutex(0)

    init(operationId: String, daemon: DaemonOptions) {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [self] in
            let count = interrupts.withLock { n -> Int in
                n += 1
                return n
            }
            let clear = KtrdrStdio.stderrIsTerminal ? "\r\u{1B}[2K" : ""
            guard count == 1 else {
                KtrdrStdio.writeStderr("\(clear)interrupted again: leaving; operation \(operationId) is being cancelled by the daemon\n")
                exit(ExitStatus.cancelled)
            }
            KtrdrStdio.writeStderr("\(clear)cancelling \(operationId)… (Ctrl-C again to leave at once)\n")
            do {
                _ = try daemon.connect().cancel(operationId)
            } catch {  // already ended, or the daemon is gone: the watch reports which
                KtrdrStdio.writeStderr("could not cancel \(operationId): \(error)\n")
            }
        }
        source.resume()
    }

    func disarm() {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }
}

/// Parses date options; a date alone as `--end` covers that whole day.
enum DateArgument {
    static func start(_ text: String, field: String) throws(KtrdrError) -> Int64 {
        guard let t = UTCTime.parse(text) else { throw .invalidDate(field: field, value: text) }
        return t
    }

    static func end(_ text: String, field: String) throws(KtrdrError) -> Int64 {
        guard let t = UTCTime.parse(text) else { throw .invalidDate(field: field, value: text) }
        return text.count == 10 ? t + 86_399 : t
    }
}
