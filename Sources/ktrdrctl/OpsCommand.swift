import ArgumentParser
import Foundation
import KtrdrAPI
import KtrdrClient
import KtrdrCore
import KtrdrOperations

struct OpsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ops", abstract: "List, inspect, watch and cancel operations.",
                                                    subcommands: [List.self, Show.self, Watch.self, Cancel.self, Results.self, Compare.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List operations, newest first.")
        @OptionGroup var daemon: DaemonOptions
        @Option(help: "pending, running, completed, failed or cancelled.") var status: String?
        @Option(help: "backtesting, training or data_loading.") var type: String?
        @Flag(help: "Only pending and running ones.") var active = false
        @Option(help: "At most this many.") var limit = 20
        @Flag(help: "JSON output.") var json = false

        func run() throws {
            var params: [String: Any] = ["limit": limit]
            if let status { params["status"] = status }
            if let type { params["operation_type"] = type }
            if active { params["active_only"] = true }
            let ops = try withClient { try daemon.connect().list(params) }
            if json { return print(String(decoding: try KtrdrJSON.encoder(pretty: true).encode(ops), as: UTF8.self)) }
            print([Format.pad("OPERATION", 42), Format.pad("STATUS", 10), Format.pad("PROGRESS", 9), Format.pad("STRATEGY", 20), "SYMBOL", "CREATED"]
                .joined(separator: " "))
            for o in ops {
                let p = o.metadata.parameters
                print([Format.pad(o.operationId, 42), Format.pad(o.status.rawValue, 10), Format.pad(Format.fixed(o.progress.percentage, 1) + "%", 9),
                       Format.pad(p.strategyName, 20), Format.pad("\(p.symbol) \(p.timeframe)", 6), String(o.createdAt.prefix(19))]
                    .joined(separator: " "))
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one operation as JSON.")
        @OptionGroup var daemon: DaemonOptions
        @Argument var operationId: String
        func run() throws {
            let r = try withClient { try daemon.connect().operation(operationId) }
            print(String(decoding: try KtrdrJSON.encoder(pretty: true).encode(r), as: UTF8.self))
        }
    }

    struct Watch: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Follow an operation's progress until it ends.")
        @OptionGroup var daemon: DaemonOptions
        @Argument var operationId: String
        func run() throws {
            let bar = ProgressBar(enabled: KtrdrStdio.stderrIsTerminal, label: operationId)
            let final = try withClient {
                try daemon.connect().watch(operationId) { r in
                    if KtrdrStdio.stderrIsTerminal { bar.draw(r) } else {
                        print("\(r.status.rawValue) \(Format.fixed(r.progress.percentage, 1))% \(r.progress.itemsProcessed)/\(r.progress.itemsTotal) \(r.progress.currentStep)")
                    }
                }
            }
            bar.finish()
            print("\(final.operationId) \(final.status.rawValue)")
            if final.status == .cancelled { throw ExitCode(ExitStatus.cancelled) }
            if final.status == .failed { throw ExitCode(ExitStatus.failure) }
        }
    }

    struct Cancel: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel an operation (idempotent; exit 6 if it already completed).")
        @OptionGroup var daemon: DaemonOptions
        @Argument var operationId: String
        func run() throws {
            let r = try withClient { try daemon.connect().cancel(operationId) }
            print("\(r.operationId) \(r.status.rawValue)")
        }
    }

    struct Results: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a completed backtest's metrics and trades; optionally its equity curve, or an HTML chart of equity and drawdown with trade markers.")
        @OptionGroup var daemon: DaemonOptions
        @Argument var operationId: String
        @Flag(help: "Print the equity curve as CSV (timestamp,equity,drawdown_pct,position).") var equity = false
        @Flag(help: "Print every trade, not the first and last few.") var allTrades = false
        @Option(help: "Write an HTML chart (self-contained SVG) to this path.") var chart: String?
        @Option(help: "Write the trades to this CSV file.") var tradesCsv: String?
        @Option(help: "Write the trades to this Parquet file.") var tradesParquet: String?
        @Option(help: "Write the equity curve to this CSV file.") var equityCsv: String?
        @Option(help: "Write the equity curve to this Parquet file.") var equityParquet: String?
        @Flag(help: "JSON output (full result).") var json = false

        func run() throws {
            let curve = equity || json || chart != nil || equityCsv != nil || equityParquet != nil
            let r = try withClient { try daemon.connect().results(operationId, equityCurve: curve) }
            try TableFile.write(.trades(r.trades), csv: tradesCsv, parquet: tradesParquet)
            try TableFile.write(.equity(r.equityCurve), csv: equityCsv, parquet: equityParquet)
            if json { return print(String(decoding: try KtrdrJSON.encoder(pretty: true).encode(r), as: UTF8.self)) }
            if equity {
                return print(ExportTable.equity(r.equityCurve).csv(), terminator: "")
            }
            print(ResultTable.render(r, seconds: 0, maxTrades: allTrades ? Int.max : 10))
            if let chart {
                try EquityChart.html(r).write(toFile: chart, atomically: true, encoding: .utf8)
                print("\nchart written to \(chart)")
            }
        }
    }
}
