import Foundation
import KtrdrCore
import XCTest
import KtrdrFiles

/// Execution rules on hand-made bars where every number can be checked by hand.
final class EngineTests: XCTestCase {
    /// Bars with distinct open and close so fills at the open are visible.
    func bars(_ n: Int) -> Bars {
        let ts = (0..<n).map { Int64($0) * 86_400 }
        let open = (0..<n).map { 100 + Double($0) }
        let close = open.map { $0 + 0.5 }
        return Bars(timestamps: ts, open: open, high: close.map { $0 + 1 }, low: open.map { $0 - 1 }, close: close,
                    volume: [Double](repeating: 1, count: n))
    }

    func settings(_ change: (inout ExecutionSettings) -> Void = { _ in }) -> ExecutionSettings {
        var s = ExecutionSettings()
        s.commission = 0
        s.slippage = 0
        s.positionSize = 1
        s.minSignalSeparation = 0
        s.confidenceThreshold = 0.5
        change(&s)
        return s
    }

    func run(_ b: Bars, _ signal: [Int8], _ s: ExecutionSettings, confidence: [Double]? = nil) throws -> EngineOutput {
        try BacktestEngine.run(bars: b, first: 0, last: b.count - 1, signal: signal,
                               confidence: confidence ?? [Double](repeating: 1, count: b.count), settings: s)
    }

    func testDecisionOnCloseFillsAtNextOpen() throws {
        let b = bars(10)
        var sig = [Int8](repeating: 0, count: 10)
        sig[2] = 1
        sig[5] = -1
        let out = try run(b, sig, settings())
        XCTAssertEqual(out.trades.count, 1)
        let t = out.trades[0]
        XCTAssertEqual(t.entryPrice, b.open[3])
        XCTAssertEqual(t.exitPrice, b.open[6])
        XCTAssertEqual(t.quantity, (100_000 / b.open[3]).rounded(.down))
        XCTAssertEqual(t.barsHeld, 3)
        XCTAssertEqual(out.curve.position[2], 0, "no position on the decision bar itself")
        XCTAssertEqual(out.curve.position[3], t.quantity)
    }

    func testSignalOnLastBarIsIgnoredAndOpenPositionClosesAtLastClose() throws {
        let b = bars(6)
        var sig = [Int8](repeating: 0, count: 6)
        sig[1] = 1
        sig[5] = -1
        let out = try run(b, sig, settings { $0.commission = 0.001 })
        XCTAssertEqual(out.trades.count, 1)
        XCTAssertEqual(out.trades[0].exitPrice, b.close[5])
        XCTAssertEqual(out.trades[0].exitReason, .endOfData)
        XCTAssertEqual(out.curve.equity.last!, 100_000 + out.trades[0].netPnl, accuracy: 1e-9)
        XCTAssertEqual(out.curve.position.last!, 0)
    }

    func testSlippageAndCommissionAreAdverseAndAccounted() throws {
        let b = bars(8)
        var sig = [Int8](repeating: 0, count: 8)
        sig[0] = 1
        sig[3] = -1
        let out = try run(b, sig, settings { $0.commission = 0.001; $0.slippage = 0.01; $0.positionSize = 0.5 })
        let t = out.trades[0]
        XCTAssertEqual(t.entryPrice, b.open[1] * 1.01)
        XCTAssertEqual(t.exitPrice, b.open[4] * 0.99)
        let qty = (0.5 * 100_000 / (b.open[1] * 1.01 * 1.001)).rounded(.down)
        XCTAssertEqual(t.quantity, qty)
        XCTAssertEqual(t.commission, qty * t.entryPrice * 0.001 + qty * t.exitPrice * 0.001, accuracy: 1e-9)
        XCTAssertEqual(t.slippageCost, qty * b.open[1] * 0.01 + qty * b.open[4] * 0.01, accuracy: 1e-9)
        XCTAssertEqual(t.netPnl, qty * (t.exitPrice - t.entryPrice) - t.commission, accuracy: 1e-9)
        XCTAssertEqual(out.curve.equity.last!, 100_000 + t.netPnl, accuracy: 1e-9)
    }

    func testConfidenceSeparationAndPositionAwareness() throws {
        let b = bars(20)
        var sig = [Int8](repeating: 0, count: 20)
        var conf = [Double](repeating: 1, count: 20)
        sig[1] = 1; conf[1] = 0.4  // below threshold: HOLD
        sig[2] = -1  // SELL while flat, long-only: HOLD
        sig[3] = 1  // executed
        sig[4] = 1  // BUY while long: HOLD
        sig[5] = -1  // within 4 bars of bar 3: HOLD
        sig[7] = -1  // executed
        let out = try run(b, sig, settings { $0.minSignalSeparation = 4 }, confidence: conf)
        XCTAssertEqual(out.trades.count, 1)
        XCTAssertEqual(out.trades[0].entryTime, b.timestamps[4])
        XCTAssertEqual(out.trades[0].exitTime, b.timestamps[8])
    }

    func testShortSellingWhenAllowed() throws {
        let b = bars(10)
        var sig = [Int8](repeating: 0, count: 10)
        sig[1] = -1
        sig[4] = 1
        let out = try run(b, sig, settings { $0.allowShort = true })
        XCTAssertEqual(out.trades.count, 2, "the BUY while short closes it and goes long (stop-and-reverse)")
        let t = out.trades[0], long = out.trades[1]
        XCTAssertEqual(t.side, -1)
        XCTAssertEqual(t.grossPnl, t.quantity * (b.open[2] - b.open[5]))
        XCTAssertLessThan(t.netPnl, 0, "prices rise, so the short loses")
        XCTAssertEqual([long.side, Int(long.entryTime), Int(long.exitTime)], [1, Int(b.timestamps[5]), Int(b.timestamps[9])])
        XCTAssertEqual(long.exitReason, .endOfData)
        XCTAssertEqual(out.curve.equity.last!, 100_000 + t.netPnl + long.netPnl, accuracy: 1e-6)
        let longOnly = try run(b, sig, settings())
        XCTAssertEqual(longOnly.trades.count, 1, "long-only ignores the SELL and takes the BUY")
        XCTAssertEqual(longOnly.trades[0].side, 1)
        XCTAssertEqual(longOnly.trades[0].entryTime, b.timestamps[5])
    }

    /// No look-ahead: changing bars after t changes nothing up to t.
    func testFutureBarsDoNotChangeThePast() throws {
        let data = try Repo.bars("GOOG_1d")
        let config = try StrategyLoader.load(path: Repo.path("strategies/sma_crossover.yaml"))
        let strategy = try compiledIn(config)
        let cut = 1000
        var altered = data
        for t in cut..<data.count { altered.close[t] *= 1.5; altered.open[t] *= 0.7 }
        let a = try strategy.signals(for: data), b = try strategy.signals(for: altered)
        XCTAssertEqual(Array(a.signal[..<cut]), Array(b.signal[..<cut]))
        let s = config.executionSettings(initialCapital: 100_000, commission: 0.001, slippage: 0)
        let ra = try BacktestEngine.run(bars: data, first: 0, last: data.count - 1, signal: a.signal, confidence: a.confidence, settings: s)
        let rb = try BacktestEngine.run(bars: altered, first: 0, last: data.count - 1, signal: b.signal, confidence: b.confidence, settings: s)
        XCTAssertEqual(Array(ra.curve.equity[..<cut]), Array(rb.curve.equity[..<cut]))
    }

    func testCancellationAndProgress() throws {
        let b = SyntheticData(bars: 50_000).generate()
        let config = try StrategyLoader.load(path: Repo.path("strategies/sma_crossover.yaml"))
        let (sig, conf) = try compiledIn(config).signals(for: b)
        let seen = ProgressLog()
        let out = try BacktestEngine.run(bars: b, first: 0, last: b.count - 1, signal: sig, confidence: conf, settings: settings(),
                                         progress: { seen.append($0) })
        let done = seen.values.map(\.barsDone)
        XCTAssertEqual(done, done.sorted())
        XCTAssertEqual(done.last, b.count)
        XCTAssertGreaterThanOrEqual(done.count, b.count / BacktestEngine.chunk)
        XCTAssertEqual(seen.values.last?.tradesClosed, out.trades.count)

        let token = CancellationToken()
        let counted = ProgressLog()
        XCTAssertThrowsError(try BacktestEngine.run(bars: b, first: 0, last: b.count - 1, signal: sig, confidence: conf, settings: settings(),
                                                    progress: { p in counted.append(p); if p.barsDone >= 10_000 { token.cancel() } },
                                                    cancel: token)) { error in
            XCTAssertEqual(error as? KtrdrError, .cancelled)
        }
        XCTAssertLessThan(counted.values.last!.barsDone, 10_000 + 2 * BacktestEngine.chunk, "stops within a chunk of the request")
    }

    func testWarmupIsLoadedBeforeStartAndInsufficientDataIsReported() throws {
        let config = try StrategyLoader.load(path: Repo.path("strategies/sma_crossover.yaml"))
        var request = BacktestRequest(strategy: config, symbol: "GOOG", timeframe: .d1,
                                      start: UTCTime.parse("2005-01-03"), end: UTCTime.parse("2005-03-31")! + 86_399)
        let p = try Backtester.prepare(request, strategy: try compiledIn(request.strategy), dataDirectory: Repo.path("data"))
        XCTAssertEqual(p.first, 30)
        XCTAssertEqual(UTCTime.iso(p.bars.timestamps[p.first]), "2005-01-03T00:00:00Z")
        XCTAssertEqual(UTCTime.iso(p.bars.timestamps.last!), "2005-03-31T00:00:00Z")
        let r = try Backtester.run(p)
        XCTAssertEqual(r.bars, p.bars.count - 30)
        XCTAssertEqual(r.equityCurve.equity.count, r.bars)

        request.start = UTCTime.parse("2004-08-25")
        XCTAssertThrowsError(try Backtester.prepare(request, strategy: try compiledIn(request.strategy), dataDirectory: Repo.path("data"))) { error in
            guard case let .insufficientData(needed, found, _) = error as? KtrdrError else { return XCTFail("\(error)") }
            XCTAssertEqual(needed, 30)
            XCTAssertEqual(found, 4)
        }
        request.start = UTCTime.parse("2020-01-01")
        request.end = nil
        XCTAssertThrowsError(try Backtester.prepare(request, strategy: try compiledIn(request.strategy), dataDirectory: Repo.path("data"))) { error in
            XCTAssertEqual((error as? KtrdrError)?.code, "insufficient_data")
        }
    }

    func testMetricsAreNullNotNaNWhenUndefined() throws {
        let b = bars(10)
        let out = try run(b, [Int8](repeating: 0, count: 10), settings())
        let m = Metrics.compute(output: out, initialCapital: 100_000, barsPerYear: 252, spanSeconds: 9 * 86_400,
                                firstOpen: b.open[0], lastClose: b.close[9])
        XCTAssertNil(m.sharpeRatio)
        XCTAssertNil(m.profitFactor)
        XCTAssertNil(m.winRate)
        let json = String(decoding: try KtrdrJSON.encoder().encode(m), as: UTF8.self)
        XCTAssertTrue(json.contains("\"sharpe_ratio\":null"), json)
        XCTAssertFalse(json.lowercased().contains("nan") || json.lowercased().contains("inf"))
    }
}

/// Collects progress reports from the engine thread.
final class ProgressLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [BacktestProgress] = []
    func append(_ p: BacktestProgress) { lock.lock(); items.append(p); lock.unlock() }
    var values: [BacktestProgress] { lock.lock(); defer { lock.unlock() }; return items }
}

/// A trade's wire form is defined once (`Trade.Field`): the fast writer, the Codable form and
/// the fast reader agree on every key and value.
final class TradeWireTests: XCTestCase {
    func testFastWriterCodableAndReaderAgree() throws {
        let trade = try KtrdrJSON.decoder().decode(Trade.self, from: Data("""
            {"trade_id":7,"side":"short","entry_time":"2020-09-13T12:26:40Z","entry_price":101.25,"exit_time":"2020-09-13T13:26:40Z",
             "exit_price":99.5,"quantity":12,"gross_pnl":21,"commission":2.4,"slippage_cost":0.1,"net_pnl":18.5,"return_pct":1.52,
             "bars_held":60,"exit_reason":"end_of_data"}
            """.utf8))
        var w = FastJSON(capacity: 512)
        w.trade(trade)
        let fast = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(w.bytes)) as? [String: Any])
        let codable = try XCTUnwrap(JSONSerialization.jsonObject(with: try KtrdrJSON.encoder().encode(trade)) as? [String: Any])
        XCTAssertEqual(Set(fast.keys), Set(Trade.Field.allCases.map(\.json)))
        XCTAssertEqual(Set(codable.keys), Set(fast.keys))
        for key in fast.keys { XCTAssertEqual("\(fast[key]!)", "\(codable[key]!)", key) }
        XCTAssertEqual(try KtrdrJSON.decoder().decode(Trade.self, from: Data(w.bytes)), trade)
    }
}
