import KtrdrCore
import XCTest

/// SMA_CROSSOVER.md: the shipped `sma_crossover` strategy, all-in, commission 0.001,
/// slippage 0, over whole files, reproduces the reference bit for bit.
final class SMACrossoverContractTests: XCTestCase {
    func result(_ dataset: String) throws -> BacktestResult {
        let config = try StrategyLoader.load(path: Repo.path("strategies/sma_crossover.yaml"))
        let parts = dataset.split(separator: "_")
        var request = BacktestRequest(strategy: config, symbol: String(parts[0]), timeframe: Timeframe(rawValue: String(parts[1]))!)
        request.commission = 0.001
        request.slippage = 0
        XCTAssertEqual(config.trading.positionSize, 1.0)
        return try Backtester.run(Backtester.prepare(request, dataDirectory: Repo.path("data")))
    }

    func testGOOGDailyMatchesPublishedContract() throws {
        let r = try result("GOOG_1d")
        XCTAssertEqual(r.bars, 2148)
        XCTAssertEqual(r.trades.count, 33)
        XCTAssertEqual("\(r.metrics.finalEquity)", "545054.3120499998")
        XCTAssertEqual("\(r.equityCurve.equity.last!)", "545054.3120499998")
        let first = r.trades.first!, last = r.trades.last!
        XCTAssertEqual(UTCTime.iso(first.entryTime), "2004-12-21T00:00:00Z")
        XCTAssertEqual(first.entryPrice, 186.31)
        XCTAssertEqual(UTCTime.iso(first.exitTime), "2005-01-31T00:00:00Z")
        XCTAssertEqual(first.exitPrice, 193.69)
        XCTAssertEqual(first.quantity, 536)
        XCTAssertEqual(first.netPnl, 3752.00, accuracy: 0.005)
        XCTAssertEqual(first.exitReason, .signal)
        XCTAssertEqual(UTCTime.iso(last.entryTime), "2012-12-04T00:00:00Z")
        XCTAssertEqual(last.entryPrice, 695.00)
        XCTAssertEqual(UTCTime.iso(last.exitTime), "2013-03-01T00:00:00Z")
        XCTAssertEqual(last.exitPrice, 806.19)
        XCTAssertEqual(last.quantity, 676)
        XCTAssertEqual(last.netPnl, 74149.63556, accuracy: 1e-6)
        XCTAssertEqual(last.exitReason, .endOfData)
        // Accounting identity: every cent of the final equity is explained by the trades.
        let explained = r.trades.reduce(100_000.0) { $0 + $1.netPnl }
        XCTAssertEqual(explained, r.metrics.finalEquity, accuracy: 1e-6)
        XCTAssertEqual(r.metrics.totalTrades, 33)
    }

    func testGOOGMatchesIndependentPython() throws { try compareWithPython("GOOG_1d") }
    func testEURUSDHourlyMatchesIndependentPython() throws { try compareWithPython("EURUSD_1h") }

    /// Runs scripts/sma_crossover_reference.py (plain Python, no shared code) and compares
    /// every trade field and the final equity exactly.
    private func compareWithPython(_ dataset: String) throws {
        let r = try result(dataset)
        let output = try runProcess("/usr/bin/env", ["python3", Repo.path("scripts/sma_crossover_reference.py"), Repo.path("data/\(dataset).csv")])
        var lines = output.split(separator: "\n").map(String.init)
        let finalLine = try XCTUnwrap(lines.popLast())
        XCTAssertEqual(finalLine, "final_equity,\(r.metrics.finalEquity)")
        XCTAssertGreaterThan(lines.count, 10, "the reference produced too few trades to be a meaningful comparison")
        XCTAssertEqual(lines.count, r.trades.count, "trade count")
        for (line, trade) in zip(lines, r.trades) {
            let f = line.split(separator: ",").map(String.init)
            let ours = [UTCTime.iso(trade.entryTime), "\(trade.entryPrice)", UTCTime.iso(trade.exitTime), "\(trade.exitPrice)",
                        "\(Int(trade.quantity))", "\(trade.netPnl)", "\(trade.commission)"]
            XCTAssertEqual(f.count, 7)
            for k in [0, 2, 4] { XCTAssertEqual(f[k], ours[k], "trade \(trade.tradeId) field \(k)") }
            for k in [1, 3, 5, 6] {
                XCTAssertEqual(Double(f[k])!.bitPattern, Double(ours[k])!.bitPattern, "trade \(trade.tradeId) field \(k): python \(f[k]) ours \(ours[k])")
            }
        }
    }
}
