import KtrdrAPI
import KtrdrCore

/// The human-readable result of a backtest: header, metrics table, and trades.
enum ResultTable {
    static func render(_ r: BacktestResult, seconds: Double, maxTrades: Int = 10) -> String {
        let m = r.metrics
        var lines = [String]()
        lines.append("")
        lines.append("\(r.strategy)  \(r.symbol) \(r.timeframe)  \(r.start.prefix(16)) → \(r.end.prefix(16))  "
            + "\(Format.grouped(r.bars)) bars (+\(r.warmupBars) warm-up)  \(Format.fixed(seconds * 1000, 1)) ms")
        for warning in r.warnings ?? [] { lines.append("warning: \(warning)") }
        lines.append("")
        let rows: [(String, String)] = [
            ("Initial capital", Format.money(m.initialCapital)),
            ("Final equity", Format.money(m.finalEquity)),
            ("Total return", "\(Format.signedMoney(m.totalReturn))  (\(Format.fixed(m.totalReturnPct, 2)) %)"),
            ("Annualized return", Format.optional(m.annualizedReturn, suffix: " %")),
            ("Buy & hold return", Format.fixed(m.buyAndHoldReturnPct, 2) + " %"),
            ("Volatility (ann.)", Format.optional(m.volatility, suffix: " %") + "  (\(Format.grouped(Int(m.barsPerYear.rounded()))) bars a year, measured)"),
            ("Sharpe ratio", Format.optional(m.sharpeRatio, 3)),
            ("Sortino ratio", Format.optional(m.sortinoRatio, 3)),
            ("Calmar ratio", Format.optional(m.calmarRatio, 3)),
            ("Max drawdown", "\(Format.fixed(m.maxDrawdownPct, 2)) %  (\(Format.money(m.maxDrawdown)))"),
            ("Max drawdown duration", "\(Format.grouped(m.maxDrawdownDuration)) bars"),
            ("Trades", "\(m.totalTrades)  (\(m.winningTrades) won, \(m.losingTrades) lost)"),
            ("Win rate", m.winRate.map { Format.fixed($0 * 100, 1) + " %" } ?? "n/a"),
            ("Profit factor", Format.optional(m.profitFactor, 3)),
            ("Expectancy", m.expectancy.map(Format.money) ?? "n/a"),
            ("Avg win / avg loss", "\(m.avgWin.map(Format.money) ?? "n/a") / \(m.avgLoss.map(Format.money) ?? "n/a")"),
            ("Largest win / loss", "\(m.largestWin.map(Format.money) ?? "n/a") / \(m.largestLoss.map(Format.money) ?? "n/a")"),
            ("SQN", Format.optional(m.sqn, 2)),
            ("Exposure", Format.fixed(m.exposurePct, 1) + " %"),
            ("Avg bars held", Format.optional(m.avgBarsHeld, 1)),
        ]
        let width = rows.map(\.0.count).max()! + 2
        lines.append(contentsOf: rows.map { "  " + Format.pad($0.0, width) + $0.1 })
        if !r.trades.isEmpty {
            lines.append("")
            let shown = r.trades.count <= maxTrades ? Array(r.trades)
                : Array(r.trades.prefix(maxTrades / 2)) + Array(r.trades.suffix(maxTrades / 2))
            lines.append("  " + ["#", "side", "entry", "price", "exit", "price", "qty", "net P&L", "return", "reason"].enumerated()
                .map { Format.pad($1, widths[$0], right: $0 == 0 || $0 == 3 || $0 >= 5 && $0 <= 8) }.joined(separator: " "))
            for (i, t) in shown.enumerated() {
                if r.trades.count > maxTrades && i == maxTrades / 2 {
                    lines.append("  " + Format.pad("… \(r.trades.count - maxTrades) more", 20))
                }
                let cells = ["\(t.tradeId)", t.side > 0 ? "long" : "short", UTCTime.short(t.entryTime), Format.fixed(t.entryPrice, 4),
                             UTCTime.short(t.exitTime), Format.fixed(t.exitPrice, 4), Format.fixed(t.quantity, t.quantity.rounded() == t.quantity ? 0 : 4),
                             Format.signedMoney(t.netPnl), Format.fixed(t.returnPct, 2) + "%", t.exitReason.rawValue]
                lines.append("  " + cells.enumerated().map { Format.pad($1, widths[$0], right: $0 == 0 || $0 == 3 || $0 >= 5 && $0 <= 8) }
                    .joined(separator: " "))
            }
        }
        return lines.joined(separator: "\n")
    }

    private static let widths = [4, 5, 16, 11, 16, 11, 9, 14, 8, 11]
}
