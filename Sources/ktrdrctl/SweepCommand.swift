import ArgumentParser
import Foundation
import KtrdrAPI
import KtrdrClient
import KtrdrCore

/// `ktrdrctl sweep run`: one backtest per parameter set, as one daemon operation, ranked.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sweep", abstract: "Run parameter sweeps (grid or random) as daemon operations.",
                                                    subcommands: [Run.self, Show.self])

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sweep plugin parameters and print the trials ranked by a metric.",
            discussion: """
                Every trial is a full backtest of the strategy file with the trial's values written in,
                checked like a file and bit-identical to `backtest run --param …` with those values.
                Example: ktrdrctl sweep run sma_crossover SYNTH 1m --param fast_period=5:50:5
                  --param slow_period=20:200:10 --where 'fast_period < slow_period' --rank sharpe_ratio
                Ctrl-C cancels the sweep; the finished trials are kept (`sweep show ID`).
                """)

        @OptionGroup var daemon: DaemonOptions
        @OptionGroup var grid: SweepOptions
        @Option(help: "First bar (UTC).") var start: String?
        @Option(help: "Last bar, inclusive (UTC).") var end: String?
        @Option(help: "Rows of the ranked table.") var top = 10
        @Option(help: "Also write every trial (parameters and all metrics) to this CSV file.") var csv: String?
        @Option(help: "Also write every trial to this Parquet file.") var parquet: String?
        @Flag(help: "Print every trial with its params and metrics as JSON instead of the table.") var json = false
        @OptionGroup var report: SweepReportOptions

        func validate() throws {
            guard !grid.params.isEmpty else { throw ValidationError("give at least one --param name=values to sweep") }
            guard top >= 1 else { throw ValidationError("--top must be at least 1") }
        }

        /// The request body of `POST /sweeps/start`.
        func body() throws -> [String: Any] {
            var b = try grid.body()
            if let start { b["start_date"] = start }
            if let end { b["end_date"] = end }
            return b
        }

        func run() throws {
            let connection = try daemon.connect()
            let began = KtrdrStdio.now()
            let record = try withClient { try connection.startSweep(try body()) }
            let id = record.operationId
            printError("operation \(id): sweep of \(grid.strategy) on \(grid.symbol) \(grid.timeframe), \(Format.grouped(record.progress.itemsTotal)) trials")
            let interrupt = CancelOnInterrupt(operationId: id, daemon: daemon)
            defer { interrupt.disarm() }
            let bar = ProgressBar(enabled: KtrdrStdio.stderrIsTerminal && !json, label: "\(grid.strategy) \(grid.symbol) \(grid.timeframe)")
            let final = try withClient { try connection.watch(id) { bar.drawSweep($0, rank: grid.rank) } }
            bar.finish()
            let result = try withClient { try connection.sweepResult(id) }
            try SweepOutput(result: result, top: top, json: json, csv: csv, parquet: parquet).print(seconds: KtrdrStdio.now() - began)
            try report.write(result, connection: connection)
            try exitUnlessCompleted(final)
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a sweep's ranked trials (at any time: running, cancelled or done).")
        @OptionGroup var daemon: DaemonOptions
        @Argument(help: "Operation id of the sweep.") var operationId: String
        @Option(help: "Rows of the ranked table.") var top = 10
        @Option(help: "Also write every trial to this CSV file.") var csv: String?
        @Option(help: "Also write every trial to this Parquet file.") var parquet: String?
        @Flag(help: "Print JSON instead of the table.") var json = false
        @OptionGroup var report: SweepReportOptions

        func run() throws {
            let connection = try daemon.connect()
            let result = try withClient { try connection.sweepResult(operationId) }
            try SweepOutput(result: result, top: top, json: json, csv: csv, parquet: parquet).print(seconds: nil)
            try report.write(result, connection: connection)
        }
    }
}

/// What a sweep and a walk-forward share on the command line: the strategy and run, the
/// swept parameters, the condition, the method and the rank.
struct SweepOptions: ParsableArguments {
    @Argument(help: "Strategy name (strategies/<name>.yaml).") var strategy: String
    @Argument(help: "Symbol.") var symbol: String
    @Argument(help: "Timeframe.") var timeframe: String
    @Option(name: .customLong("param"), help: ArgumentHelp("A swept plugin parameter (repeatable): start:stop:step (inclusive), a,b,c or one value.", valueName: "name=values"))
    var params: [String] = []
    @Option(name: .customLong("set"), help: ArgumentHelp("A strategy-file field fixed for every trial, by YAML path (repeatable).", valueName: "path=value"))
    var sets: [String] = []
    @Option(name: .customLong("where"), help: "A condition every trial meets, e.g. 'fast_period < slow_period'.") var condition: String?
    @Option(help: "grid (every admissible point) or random (--samples of them).") var method = "grid"
    @Option(help: "Trials to draw with --method random.") var samples: Int?
    @Option(help: "Seed of --method random (default: drawn, and recorded in the operation).") var seed: UInt64?
    @Option(help: "Metric to rank by.") var rank = "sharpe_ratio"
    @Option(help: "asc or desc (default: desc, asc for drawdowns and volatility).") var rankOrder: String?
    @Option(help: "Initial capital.") var capital: Double = 100_000
    @Option(help: "Commission, fraction of traded value per side.") var commission: Double = 0.001
    @Option(help: "Adverse slippage, fraction of price.") var slippage: Double = 0.0005
    @Flag(inversion: .prefixedNo, help: "Send trials to the daemon's workers in batches, beside its own cores (mode remote), or keep them on the daemon (default: the daemon's).")
    var remote: Bool?

    /// The sweep fields of a request body.
    func body() throws -> [String: Any] {
        var grid = [String: Any]()
        for item in params {
            guard let eq = item.firstIndex(of: "="), eq != item.startIndex else { throw ValidationError("--param \(item): expected name=values") }
            let name = String(item[..<eq])
            guard grid.updateValue(String(item[item.index(after: eq)...]), forKey: name) == nil else { throw ValidationError("--param \(name) is given twice") }
        }
        var b: [String: Any] = ["strategy_name": strategy, "symbol": symbol, "timeframe": timeframe, "grid": grid, "method": method,
                                "rank": rank, "initial_capital": capital, "commission": commission, "slippage": slippage]
        var overrides = [String: Any]()
        for item in sets {
            guard let eq = item.firstIndex(of: "="), eq != item.startIndex else { throw ValidationError("--set \(item): expected path=value") }
            switch StrategyOverrides.Scalar.parse(String(item[item.index(after: eq)...])) {
            case let .number(v): overrides[String(item[..<eq])] = v
            case let .bool(v): overrides[String(item[..<eq])] = v
            case let .string(v): overrides[String(item[..<eq])] = v
            }
        }
        if !overrides.isEmpty { b["overrides"] = overrides }
        if let condition { b["where"] = condition }
        if let remote { b["mode"] = remote ? "remote" : "local" }
        if let samples { b["samples"] = samples }
        if let seed { b["seed"] = seed }
        if let rankOrder { b["rank_order"] = rankOrder }
        return b
    }
}

extension ProgressBar {
    /// A sweep's line: trials done, the best so far, the rate and the ETA.
    func drawSweep(_ r: OperationRecord, rank: String) {
        let p = r.progress, c = p.context
        guard c.trialsDone != nil || r.status.isTerminal else { return draw(r) }  // loading the data
        drawLine(force: r.status.isTerminal) { elapsed in
            let width = 24, fraction = Double(p.itemsProcessed) / Double(max(1, p.itemsTotal))
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            let best = c.bestParams.map { params in
                "  best \(rank) \(Format.optional(c.bestValue, 3)) at " + params.keys.sorted().map { "\($0)=\(StrategyOverrides.Scalar.number(params[$0]!))" }.joined(separator: " ")
            } ?? ""
            let failed = (c.trialsFailed ?? 0) > 0 ? " (\(c.trialsFailed!) failed)" : ""
            return "\(self.label) \(bar) \(Format.grouped(p.itemsProcessed))/\(Format.grouped(p.itemsTotal)) trials\(failed)\(best)  "
                + "\(Format.fixed(Double(p.itemsProcessed) / max(elapsed, 1e-3), 1)) trials/s  ETA \(Format.fixed(c.etaSeconds ?? 0, 0))s"
        }
    }
}
