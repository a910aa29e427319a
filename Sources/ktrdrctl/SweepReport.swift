import ArgumentParser
import Foundation
import KtrdrAPI
import KtrdrClient
import KtrdrCore

/// A sweep as one self-contained HTML page: a heatmap of the rank metric over two parameters
/// (the best value over the others: a broad "mountain" reads as robust, a lone bright cell as
/// luck), the ranked table, the overfitting guards, and the equity curves of the top trials
/// (re-run as full backtests: sweeps store no curves).
struct SweepReport {
    let result: SweepResult
    let x: String
    let y: String
    /// The top trials' curves: label and (time, equity) points.
    let curves: [(label: String, points: [(Int64, Double)])]

    func html() -> String {
        """
        <!doctype html><html><head><meta charset="utf-8"><title>Sweep \(escape(result.operationId))</title>
        <style>body{font:14px system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse}td,th{padding:2px 8px;text-align:right;border-bottom:1px solid #eee}
        th{background:#f4f4f4}.note{color:#555;max-width:60em}svg text{font:11px system-ui,sans-serif}</style></head><body>
        <h1>Sweep \(escape(result.operationId))</h1>
        <p>\(result.trialsCompleted) of \(result.trialsTotal) trials completed\(result.trialsFailed > 0 ? ", \(result.trialsFailed) failed" : ""); ranked by <b>\(escape(result.rank))</b> (\(result.rankOrder)); status \(result.status.rawValue).</p>
        \(guards())
        <h2>\(escape(result.rank)) over \(escape(x)) × \(escape(y))</h2>
        <p class="note">Each cell is the best \(escape(result.rank)) among the trials with those two values (over every other parameter). A broad bright region means the result does not hang on one exact setting; a lone bright cell among dark ones is more likely luck.</p>
        \(heatmap())
        \(curves.isEmpty ? "" : "<h2>Equity of the top trials</h2>" + curveChart())
        <h2>Top trials</h2>\(table())
        \(result.rerun.map { "<p>Re-run the best as a full backtest: <code>\(escape($0))</code></p>" } ?? "")
        </body></html>
        """
    }

    private func guards() -> String {
        guard let o = result.overfitting else { return "" }
        var items = [String]()
        if let dsr = o.deflatedSharpeRatio, let sr0 = o.expectedMaxSharpe, let sr = o.bestSharpe {
            items.append(String(format: "<li>Deflated Sharpe ratio of the top trial: <b>%.3f</b> (per-bar Sharpe %.4g against %.4g expected from %d trials with no skill)</li>", dsr, sr, sr0, o.trials))
        }
        if let pbo = o.pbo, let splits = o.pboSplits {
            items.append(String(format: "<li>Probability of backtest overfitting (CSCV, %d splits): <b>%.3f</b></li>", splits, pbo))
        }
        return items.isEmpty ? "" : "<ul>" + items.joined() + "</ul>"
    }

    private func heatmap() -> String {
        let field = Metrics.Field.allCases.first { $0.json == result.rank }
        let completed = result.trials.filter { $0.status == "completed" }
        let xs = Array(Set(completed.compactMap { $0.params[x] })).sorted(), ys = Array(Set(completed.compactMap { $0.params[y] })).sorted()
        guard let field, !xs.isEmpty, !ys.isEmpty else { return "<p>No completed trials to map.</p>" }
        let descending = result.rankOrder == "desc"
        var cells = [[Double?]](repeating: [Double?](repeating: nil, count: xs.count), count: ys.count)
        for t in completed {
            guard let px = t.params[x], let py = t.params[y], let v = t.metrics?.value(field), v.isFinite,
                  let i = xs.firstIndex(of: px), let j = ys.firstIndex(of: py) else { continue }
            if let old = cells[j][i], descending ? old >= v : old <= v { continue }
            cells[j][i] = v
        }
        let values = cells.flatMap { $0 }.compactMap { $0 }
        let lo = values.min() ?? 0, hi = values.max() ?? 1
        let cw = max(14, min(48, 640 / xs.count)), ch = max(14, min(36, 480 / ys.count)), left = 70, top = 10
        var svg = "<svg width=\"\(left + cw * xs.count + 90)\" height=\"\(top + ch * ys.count + 50)\">"
        for (j, row) in cells.enumerated() {
            let yPos = top + (ys.count - 1 - j) * ch
            svg += "<text x=\"\(left - 6)\" y=\"\(yPos + ch / 2 + 4)\" text-anchor=\"end\">\(label(ys[j]))</text>"
            for (i, v) in row.enumerated() {
                let fill = v.map { color(hi > lo ? ($0 - lo) / (hi - lo) : 1, better: descending) } ?? "#fff"
                let tip = v.map { "\(x)=\(label(xs[i])) \(y)=\(label(ys[j])): \(String(format: "%.4g", $0))" } ?? "no trial"
                svg += "<rect x=\"\(left + i * cw)\" y=\"\(yPos)\" width=\"\(cw)\" height=\"\(ch)\" fill=\"\(fill)\" stroke=\"#fff\"><title>\(escape(tip))</title></rect>"
            }
        }
        for (i, v) in xs.enumerated() where xs.count <= 30 || i % (xs.count / 15 + 1) == 0 {
            svg += "<text x=\"\(left + i * cw + cw / 2)\" y=\"\(top + ch * ys.count + 14)\" text-anchor=\"middle\">\(label(v))</text>"
        }
        svg += "<text x=\"\(left + cw * xs.count / 2)\" y=\"\(top + ch * ys.count + 34)\" text-anchor=\"middle\">\(escape(x))</text>"
        svg += "<text x=\"12\" y=\"\(top + ch * ys.count / 2)\" transform=\"rotate(-90 12 \(top + ch * ys.count / 2))\" text-anchor=\"middle\">\(escape(y))</text>"
        svg += String(format: "<text x=\"%d\" y=\"%d\">best %.4g</text><text x=\"%d\" y=\"%d\">worst %.4g</text>",
                      left + cw * xs.count + 8, top + 12, descending ? hi : lo, left + cw * xs.count + 8, top + ch * ys.count, descending ? lo : hi)
        return svg + "</svg>"
    }

    /// Dark blue (worst) to yellow (best).
    private func color(_ f: Double, better descending: Bool) -> String {
        let t = descending ? f : 1 - f
        let r = Int(30 + 225 * t), g = Int(40 + 180 * t), b = Int(120 - 90 * t)
        return String(format: "#%02x%02x%02x", r, g, b)
    }

    private func curveChart() -> String {
        let all = curves.flatMap(\.points)
        guard let t0 = all.map(\.0).min(), let t1 = all.map(\.0).max(), let lo = all.map(\.1).min(), let hi = all.map(\.1).max(), t1 > t0 else { return "" }
        let w = 760.0, h = 260.0, colors = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e"]
        var svg = "<svg width=\"\(Int(w) + 180)\" height=\"\(Int(h) + 30)\">"
        for (k, c) in curves.enumerated() {
            let points = c.points.map { p in
                String(format: "%.1f,%.1f", Double(p.0 - t0) / Double(t1 - t0) * w, h - (hi > lo ? (p.1 - lo) / (hi - lo) : 0.5) * h + 5)
            }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(colors[k % colors.count])\" stroke-width=\"1.2\" points=\"\(points)\"/>"
            svg += "<text x=\"\(Int(w) + 10)\" y=\"\(20 + k * 16)\" fill=\"\(colors[k % colors.count])\">\(escape(c.label))</text>"
        }
        svg += String(format: "<text x=\"0\" y=\"%d\">%@ .. %@; equity %.0f .. %.0f</text>", Int(h) + 25, UTCTime.iso(t0), UTCTime.iso(t1), lo, hi)
        return svg + "</svg>"
    }

    private func table() -> String {
        let shown = SweepOutput.shown
        var html = "<table><tr><th>rank</th>" + result.parameters.map { "<th>\(escape($0))</th>" }.joined() + shown.map { "<th>\($0.json)</th>" }.joined() + "</tr>"
        for (i, t) in result.trials.prefix(25).enumerated() {
            html += "<tr><td>\(i + 1)</td>" + result.parameters.map { "<td>\(t.params[$0].map(label) ?? "-")</td>" }.joined()
                + shown.map { f in "<td>\(t.metrics.flatMap { $0.value(f) }.map { String(format: "%.4g", $0) } ?? t.status)</td>" }.joined() + "</tr>"
        }
        return html + "</table>"
    }

    private func label(_ v: Double) -> String { StrategyOverrides.Scalar.number(v).description }

    private func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }
}

/// `--html FILE` on `sweep run` and `sweep show`.
struct SweepReportOptions: ParsableArguments {
    @Option(help: "Write an HTML report (heatmap, guards, top trials' equity) to this file.") var html: String?
    @Option(help: "Heatmap columns: a swept parameter (default: the first).") var x: String?
    @Option(help: "Heatmap rows: a swept parameter (default: the second).") var y: String?
    @Option(help: "Equity curves of this many top trials in the report (each re-run as a full backtest).") var curves = 3

    func write(_ result: SweepResult, connection: any DaemonConnection) throws {
        guard let html else { return }
        let params = result.parameters
        let x = self.x ?? params.first ?? "", y = self.y ?? (params.count > 1 ? params[1] : x)
        for p in [x, y] where !params.contains(p) {
            throw ValidationError("--x/--y '\(p)' is not a swept parameter: \(params.joined(separator: ", "))")
        }
        var drawn = [(label: String, points: [(Int64, Double)])]()
        if curves > 0, let request = try withClient({ try connection.operation(result.operationId) }).metadata.sweep {
            for t in result.trials.prefix(curves) where t.status == "completed" {
                var body: [String: Any] = ["strategy_name": request.run.strategyName, "symbol": request.run.symbol, "timeframe": request.run.timeframe,
                                           "params": (request.run.params ?? [:]).merging(t.params) { $1 }]
                if let s = request.run.startDate { body["start_date"] = s }
                if let e = request.run.endDate { body["end_date"] = e }
                if let c = request.run.initialCapital { body["initial_capital"] = c }
                if let c = request.run.commission { body["commission"] = c }
                if let s = request.run.slippage { body["slippage"] = s }
                if let o = request.run.overrides {
                    body["overrides"] = o.mapValues { v -> Any in switch v { case let .number(n): n; case let .bool(b): b; case let .string(s): s } }
                }
                let op = try withClient { try connection.startBacktest(body) }
                _ = try withClient { try connection.watch(op.operationId) { _ in } }
                let curve = try withClient { try connection.results(op.operationId, equityCurve: true) }.equityCurve
                let every = max(1, curve.equity.count / 800)
                let points = stride(from: 0, to: curve.equity.count, by: every).map { (curve.timestamps[$0], curve.equity[$0]) }
                drawn.append(("#\(drawn.count + 1) " + t.params.keys.sorted().map { "\($0)=\(StrategyOverrides.Scalar.number(t.params[$0]!))" }.joined(separator: " "), points))
            }
        }
        let page = SweepReport(result: result, x: x, y: y, curves: drawn).html()
        do { try page.write(toFile: html, atomically: true, encoding: .utf8) } catch {
            throw fail(.io(path: html, message: "cannot write: \(error.localizedDescription)"))
        }
        printError("report written to \(html)")
    }
}
