import ArgumentParser
import Foundation
import KtrdrAPI
import KtrdrCore

extension OpsCommand {
    /// `ktrdrctl ops compare ID1 ID2 …`: completed backtests' metrics side by side, and their
    /// equity curves overlaid in one self-contained HTML file.
    struct Compare: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print completed backtests' metrics side by side; optionally their equity curves overlaid (HTML).",
            discussion: """
                Every metric of each result, one column per operation. --chart writes one HTML file
                (inline SVG, no network) with the equity curves rebased to 100 at each run's start,
                so runs with different capital or dates compare, and their drawdowns below.
                """)
        @OptionGroup var daemon: DaemonOptions
        @Argument(help: "Two to eight completed backtest operations.") var operationIds: [String]
        @Option(help: "Write the overlaid equity curves to this HTML file.") var chart: String?
        @Flag(help: "Print the metrics as JSON: one object per operation.") var json = false

        func validate() throws {
            guard (2...8).contains(operationIds.count) else { throw ValidationError("give 2 to 8 operation ids, got \(operationIds.count)") }
            guard Set(operationIds).count == operationIds.count else { throw ValidationError("an operation id is given twice") }
        }

        func run() throws {
            let connection = try daemon.connect()
            let results = try operationIds.map { id in try withClient { try connection.results(id, equityCurve: chart != nil) } }
            if json {
                let rows = zip(operationIds, results).map { CompareRow(operationId: $0, strategy: $1.strategy, symbol: $1.symbol, timeframe: $1.timeframe,
                                                                     start: $1.start, end: $1.end, metrics: $1.metrics) }
                return print(String(decoding: try KtrdrJSON.encoder(pretty: true).encode(rows), as: UTF8.self))
            }
            print(Self.table(operationIds, results))
            if let chart {
                try CompareChart.html(operationIds, results).write(toFile: chart, atomically: true, encoding: .utf8)
                print("\nchart written to \(chart)")
            }
        }

        static func table(_ ids: [String], _ results: [BacktestResult]) -> String {
            var rows = [["", ] + ids.map { String($0.suffix(8)) }]
            rows.append(["strategy"] + results.map(\.strategy))
            rows.append(["data"] + results.map { "\($0.symbol) \($0.timeframe)" })
            rows.append(["range"] + results.map { "\($0.start.prefix(10))..\($0.end.prefix(10))" })
            for field in Metrics.Field.allCases {
                rows.append([field.json] + results.map { r in
                    guard let v = r.metrics.value(field) else { return "-" }
                    return field.kind == .integer ? Format.grouped(Int(v)) : Format.fixed(v, Swift.abs(v) >= 1000 ? 2 : 4)
                })
            }
            let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
            return rows.map { row in zip(row, widths).enumerated().map { Format.pad($0.element.0, $0.element.1, right: $0.offset > 0) }.joined(separator: "  ") }
                .joined(separator: "\n")
        }
    }
}

/// One compared result in `ops compare --json`.
struct CompareRow: Codable {
    var operationId: String
    var strategy: String
    var symbol: String
    var timeframe: String
    var start: String
    var end: String
    var metrics: Metrics
}

/// Overlaid equity curves (rebased to 100) and drawdowns as one HTML page of inline SVG.
enum CompareChart {
    static let colours = ["#0969da", "#cf222e", "#1a7f37", "#8250df", "#bf8700", "#0a3069", "#e16f24", "#57606a"]

    static func html(_ ids: [String], _ results: [BacktestResult], width: Double = 1000) -> String {
        let top = 300.0, bottom = 140.0, pad = 50.0
        let curves = results.map(\.equityCurve).filter { $0.equity.count > 1 && $0.equity[0] > 0 }
        guard curves.count == results.count else { return "<!doctype html><html><body>a result has no equity curve</body></html>" }
        let rebased = curves.map { c in c.equity.map { $0 / c.equity[0] * 100 } }
        let t0 = Double(curves.map { $0.timestamps[0] }.min()!), t1 = max(Double(curves.map { $0.timestamps.last! }.max()!), t0 + 1)
        let lo = rebased.map { $0.min()! }.min()!, hi = max(rebased.map { $0.max()! }.max()!, lo + 1e-9)
        let maxDD = max(curves.map { $0.drawdownPct.max() ?? 0 }.max()!, 0.0001)
        func x(_ t: Int64) -> Double { pad + (Double(t) - t0) / (t1 - t0) * (width - 2 * pad) }
        func yE(_ e: Double) -> Double { 30 + (1 - (e - lo) / (hi - lo)) * top }
        func yD(_ d: Double) -> Double { 30 + top + 30 + d / maxDD * bottom }
        var lines = "", legend = ""
        for (k, c) in curves.enumerated() {
            let colour = colours[k % colours.count], step = max(1, c.equity.count / 1500)
            let points = stride(from: 0, to: c.equity.count, by: step).map { i in "\(f(x(c.timestamps[i]))),\(f(yE(rebased[k][i])))" }
            let dd = stride(from: 0, to: c.equity.count, by: step).map { i in "\(f(x(c.timestamps[i]))),\(f(yD(c.drawdownPct[i])))" }
            lines += "<polyline class=\"equity\" data-operation=\"\(ids[k])\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.2\" points=\"\(points.joined(separator: " "))\"/>"
            lines += "<polyline class=\"drawdown\" data-operation=\"\(ids[k])\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"0.8\" points=\"\(dd.joined(separator: " "))\"/>"
            let r = results[k], m = r.metrics
            legend += "<li style=\"color:\(colour)\">\(escape(ids[k])): \(escape(r.strategy)) \(escape(r.symbol)) \(escape(r.timeframe)), "
                + "return \(f(m.totalReturnPct)) %, max drawdown \(f(m.maxDrawdownPct)) %, Sharpe \(m.sharpeRatio.map(f) ?? "n/a"), \(m.totalTrades) trades</li>"
        }
        return """
            <!doctype html><html><head><meta charset="utf-8"><title>ktrdr: \(results.count) backtests compared</title></head>
            <body style="font-family: sans-serif"><h3>\(results.count) backtests compared</h3><ul>\(legend)</ul>
            <svg width="\(f(width))" height="\(f(top + bottom + 90))" xmlns="http://www.w3.org/2000/svg">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(f(pad))" y="18" font-size="12">equity rebased to 100 at each start (\(f(lo)) – \(f(hi)))</text>
            <text x="\(f(pad))" y="\(f(30 + top + 22))" font-size="12">drawdown % (max \(f(maxDD)))</text>
            \(lines)
            </svg></body></html>
            """
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    private static func f(_ v: Double) -> String { Format.fixed(v, 2) }
}
