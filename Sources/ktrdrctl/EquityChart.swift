import KtrdrAPI
import KtrdrCore

/// A self-contained HTML page with an SVG chart: equity on top, drawdown below, trade
/// entries (▲) and exits (▼) marked on the equity line. No scripts, no external assets.
enum EquityChart {
    static func html(_ r: BacktestResult, width: Double = 1000, height: Double = 520) -> String {
        let c = r.equityCurve
        guard c.equity.count > 1 else { return "<html><body>no equity curve</body></html>" }
        // Downsample to at most ~2000 points (min/max per bucket keeps the shape).
        let step = max(1, c.equity.count / 1000)
        var idx = [Int]()
        var i = 0
        while i < c.equity.count {
            let end = min(c.equity.count, i + step)
            let slice = i..<end
            let lo = slice.min { c.equity[$0] < c.equity[$1] }!, hi = slice.max { c.equity[$0] < c.equity[$1] }!
            idx.append(contentsOf: lo < hi ? [lo, hi] : (lo == hi ? [lo] : [hi, lo]))
            i = end
        }
        let top = 300.0, bottom = 160.0, pad = 50.0
        let minE = c.equity.min()!, maxE = c.equity.max()!, maxDD = max(c.drawdownPct.max() ?? 0, 0.0001)
        let t0 = Double(c.timestamps.first!), t1 = Double(max(c.timestamps.last!, c.timestamps.first! + 1))
        func x(_ t: Int64) -> Double { pad + (Double(t) - t0) / (t1 - t0) * (width - 2 * pad) }
        func yE(_ e: Double) -> Double { 20 + (1 - (e - minE) / max(maxE - minE, 1e-9)) * top }
        func yD(_ d: Double) -> Double { 20 + top + 30 + d / maxDD * bottom }
        let equityPath = idx.map { "\(f(x(c.timestamps[$0]))),\(f(yE(c.equity[$0])))" }.joined(separator: " ")
        let ddPath = idx.map { "\(f(x(c.timestamps[$0]))),\(f(yD(c.drawdownPct[$0])))" }.joined(separator: " ")
        func equityAt(_ t: Int64) -> Double { c.equity[min(c.timestamps.firstIndex(atOrAfter: t), c.equity.count - 1)] }
        let markers = r.trades.prefix(2000).map { t in
            "<text x=\"\(f(x(t.entryTime) - 4))\" y=\"\(f(yE(equityAt(t.entryTime)) + 12))\" fill=\"#1a7f37\" font-size=\"10\">▲</text>"
                + "<text x=\"\(f(x(t.exitTime) - 4))\" y=\"\(f(yE(equityAt(t.exitTime)) - 4))\" fill=\"\(t.netPnl >= 0 ? "#1a7f37" : "#cf222e")\" font-size=\"10\">▼</text>"
        }.joined()
        let m = r.metrics
        return """
            <!doctype html><html><head><meta charset="utf-8"><title>\(r.strategy) \(r.symbol) \(r.timeframe)</title></head>
            <body style="font-family: sans-serif">
            <h3>\(r.strategy) — \(r.symbol) \(r.timeframe), \(r.start.prefix(10)) → \(r.end.prefix(10))</h3>
            <p>Final equity \(f(m.finalEquity)) (\(f(m.totalReturnPct)) %), max drawdown \(f(m.maxDrawdownPct)) %, \(m.totalTrades) trades, Sharpe \(m.sharpeRatio.map(f) ?? "n/a")</p>
            <svg width="\(f(width))" height="\(f(top + bottom + 80))" xmlns="http://www.w3.org/2000/svg">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(f(pad))" y="14" font-size="12">equity \(f(minE)) – \(f(maxE))</text>
            <polyline fill="none" stroke="#0969da" stroke-width="1.2" points="\(equityPath)"/>
            \(markers)
            <text x="\(f(pad))" y="\(f(20 + top + 24))" font-size="12">drawdown % (max \(f(maxDD)))</text>
            <polyline fill="none" stroke="#cf222e" stroke-width="1" points="\(ddPath)"/>
            </svg></body></html>
            """
    }

    private static func f(_ v: Double) -> String { Format.fixed(v, 2) }
}
