import Foundation
import KtrdrCore
import KtrdrStrategies
import XCTest
import KtrdrFiles

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
        return try Backtester.run(Backtester.prepare(request, strategy: try compiledIn(request.strategy), dataDirectory: Repo.path("data")))
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

    /// The contract's definition, written plainly: canonical window sums on every bar.
    static func canonicalSignals(_ c: [Double], fast: Int = 10, slow: Int = 30) -> [Int8] {
        func sma(_ n: Int, _ t: Int) -> Double {
            guard t >= n - 1 else { return .nan }
            var s = 0.0
            for k in (t - n + 1)...t { s += c[k] }
            return s / Double(n)
        }
        var out = [Int8](repeating: 0, count: c.count)
        for t in 1..<c.count {
            let f0 = sma(fast, t - 1), s0 = sma(slow, t - 1), f1 = sma(fast, t), s1 = sma(slow, t)
            if f0 <= s0 && f1 > s1 { out[t] = 1 } else if f0 >= s0 && f1 < s1 { out[t] = -1 }
        }
        return out
    }

    /// The running-sum fast path decides exactly like the canonical sums, ties included.
    func testFastCrossoverPathIsBitIdenticalToCanonicalSums() throws {
        var series: [(String, [Double])] = [
            ("GOOG", try Repo.bars("GOOG_1d").close), ("EURUSD", try Repo.bars("EURUSD_1h").close),
            ("SYNTH", SyntheticData(bars: 200_000, seed: 7).generate().close),
        ]
        // Period-10 pattern on a 0.0001 tick: SMA10 == SMA30 in exact arithmetic on every bar,
        // so every relation is a tie decided by rounding.
        series.append(("ties", (0..<5_000).map { 1.1 + Double([0, 3, 1, 4, 1, 5, 9, 2, 6, 5][$0 % 10]) * 0.0001 + Double($0 / 1000) * 0.0001 }))
        series.append(("flat", [Double](repeating: 42.4242, count: 2_000)))
        for (name, close) in series {
            let bars = Bars(timestamps: (0..<close.count).map(Int64.init), open: close, high: close, low: close, close: close,
                            volume: [Double](repeating: 0, count: close.count))
            let ours = try SMACrossover().signals(for: bars).signal
            let reference = Self.canonicalSignals(close)
            XCTAssertEqual(ours, reference, name)
            if name == "SYNTH" { XCTAssertGreaterThan(reference.filter { $0 != 0 }.count, 1_000) }
        }
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

/// The fast JSON writer and reader agree with each other and with JSONEncoder's view of a result.
final class ResultJSONTests: XCTestCase {
    func testFastResultJSONRoundTripsExactly() throws {
        let config = try StrategyLoader.load(path: Repo.path("strategies/rsi_mean_reversion.yaml"))
        let r = try Backtester.run(Backtester.prepare(BacktestRequest(strategy: config, symbol: "EURUSD", timeframe: .h1), strategy: try compiledIn(config),
                                                      dataDirectory: Repo.path("data")))
        XCTAssertGreaterThan(r.trades.count, 5)
        let bytes = try KtrdrJSON.encodeResult(r)
        let back = try ResultReader.decode(bytes)
        XCTAssertEqual(back.trades, r.trades)
        XCTAssertEqual(back.equityCurve, r.equityCurve)
        XCTAssertEqual(back.metrics, r.metrics)
        XCTAssertEqual(back.settings, r.settings)
        XCTAssertEqual([back.strategy, back.symbol, back.timeframe, back.start, back.end], [r.strategy, r.symbol, r.timeframe, r.start, r.end])
        XCTAssertEqual(back.bars, r.bars)
        // Same document as Foundation's encoder produces (compared as parsed JSON).
        let viaFoundation = try JSONSerialization.jsonObject(with: KtrdrJSON.encoder().encode(r)) as! NSDictionary
        let viaFast = try JSONSerialization.jsonObject(with: Data(bytes)) as! NSDictionary
        XCTAssertEqual(viaFast, viaFoundation)
        // Wrapped as the socket and HTTP send it.
        let wrapped = Array("{\"id\":3,\"result\":".utf8) + bytes + Array("}".utf8)
        XCTAssertEqual(try ResultReader.decode(wrapped, member: "result").trades, r.trades)
    }
}
