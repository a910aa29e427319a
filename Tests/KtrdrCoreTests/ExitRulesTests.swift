import Foundation
import KtrdrCore
import XCTest

/// Stops, targets, trailing stops, stop-and-reverse and sizing modes against an independent
/// implementation of the same rules (`scripts/execution_reference.py`, numpy), gaps and
/// same-bar ties included; plus hand-checked cases.
final class ExitRulesTests: XCTestCase {
    /// A seeded random walk with wide bars and occasional gaps, and sparse random signals.
    static func market(_ n: Int, seed: UInt64) -> (Bars, [Int8]) {
        var rng = seed
        func next() -> Double {  // splitmix64 → [0, 1)
            rng &+= 0x9E37_79B9_7F4A_7C15
            var z = rng
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
        }
        var o = [Double](), h = [Double](), l = [Double](), c = [Double](), sig = [Int8]()
        var price = 100.0
        for _ in 0..<n {
            let gap = next() < 0.05 ? (next() - 0.5) * 0.08 : (next() - 0.5) * 0.004
            let open = (price * (1 + gap) * 100).rounded() / 100
            let close = (open * (1 + (next() - 0.5) * 0.03) * 100).rounded() / 100
            let high = (max(open, close) * (1 + next() * 0.015) * 100).rounded() / 100
            let low = (min(open, close) * (1 - next() * 0.015) * 100).rounded() / 100
            o.append(open); h.append(high); l.append(low); c.append(close)
            let r = next()
            sig.append(r < 0.04 ? 1 : (r > 0.96 ? -1 : 0))
            price = close
        }
        let bars = Bars(timestamps: (0..<n).map { Int64($0) * 3600 }, open: o, high: h, low: l, close: c, volume: [Double](repeating: 1, count: n))
        return (bars, sig)
    }

    func settings(_ change: (inout ExecutionSettings) -> Void) -> ExecutionSettings {
        var s = ExecutionSettings()
        s.confidenceThreshold = 0.5
        s.minSignalSeparation = 2
        change(&s)
        return s
    }

    func compare(_ name: String, _ bars: Bars, _ signal: [Int8], _ s: ExecutionSettings, first: Int = 0) throws {
        let out = try BacktestEngine.run(bars: bars, first: first, last: bars.count - 1, signal: signal, confidence: [], settings: s)
        var settingsJSON = try JSONSerialization.jsonObject(with: KtrdrJSON.encoder().encode(s)) as! [String: Any]
        settingsJSON["confidence_threshold"] = s.confidenceThreshold
        let input: [String: Any] = ["open": bars.open, "high": bars.high, "low": bars.low, "close": bars.close,
                                    "signal": signal.map(Int.init), "first": first, "settings": settingsJSON]
        let path = NSTemporaryDirectory() + "ktrdr-exit-case-\(UUID().uuidString).json"
        try JSONSerialization.data(withJSONObject: input).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let text = try runProcess("/usr/bin/python3", [Repo.path("scripts/execution_reference.py"), path])
        let reference = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
        // The reference writes floats in hexadecimal: compared bit for bit, no decimal rounding between.
        func hex(_ v: Any?) -> Double { (v as? String).flatMap { Double($0) } ?? .nan }
        let trades = reference["trades"] as! [[String: Any]], equity = (reference["equity"] as! [String]).map { Double($0)! }
        XCTAssertEqual(out.trades.count, trades.count, "\(name): trade count")
        for (ours, theirs) in zip(out.trades, trades) {
            let at = "\(name) trade \(ours.tradeId)"
            XCTAssertEqual(ours.side, theirs["side"] as? Int, at)
            XCTAssertEqual(ours.entryTime, bars.timestamps[theirs["entry_bar"] as! Int], at)
            XCTAssertEqual(ours.exitTime, bars.timestamps[theirs["exit_bar"] as! Int], at)
            XCTAssertEqual(ours.exitReason.rawValue, theirs["reason"] as? String, at)
            XCTAssertEqual(ours.quantity, hex(theirs["quantity"]), at)
            XCTAssertEqual(ours.entryPrice, hex(theirs["entry_price"]), at)
            XCTAssertEqual(ours.exitPrice, hex(theirs["exit_price"]), at)
            XCTAssertEqual(ours.netPnl, hex(theirs["net_pnl"]), accuracy: 1e-9 * max(1, abs(ours.netPnl)), at)
        }
        XCTAssertEqual(out.curve.equity.count, equity.count, name)
        let worst = zip(out.curve.equity, equity).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
        XCTAssertLessThan(worst, 1e-12, "\(name): equity curve")
        let reasons = Set(out.trades.map(\.exitReason.rawValue))
        reasonsSeen.formUnion(reasons)
    }

    var reasonsSeen = Set<String>()

    func testEveryRuleMatchesTheIndependentImplementation() throws {
        let cases: [(String, ExecutionSettings)] = [
            ("stop 2% + target 4%, long only", settings { $0.stopLoss = .fraction(0.02); $0.takeProfit = .fraction(0.04) }),
            ("trailing 3%, stop-and-reverse", settings { $0.trailingStop = .fraction(0.03); $0.allowShort = true }),
            ("ATR stop 2x14 + ATR target 3x10, risk 1%, reverse", settings {
                $0.stopLoss = .atr(multiple: 2, period: 14); $0.takeProfit = .atr(multiple: 3, period: 10); $0.sizing = .risk(0.01); $0.allowShort = true
            }),
            ("stop 1% + trailing 1.5%, cash 5,000 a trade, fractional units", settings {
                $0.stopLoss = .fraction(0.01); $0.trailingStop = .fraction(0.015); $0.sizing = .cash(5_000); $0.wholeUnits = false
            }),
            ("7 units, ATR trailing 1.5x5, slippage and commission", settings {
                $0.sizing = .units(7); $0.trailingStop = .atr(multiple: 1.5, period: 5); $0.slippage = 0.001; $0.commission = 0.002
            }),
            ("reverse without exits", settings { $0.allowShort = true; $0.positionSize = 0.5 }),
            ("long only without exits (the contract's path)", settings { _ in }),
        ]
        for (k, (name, s)) in cases.enumerated() {
            let (bars, signal) = Self.market(3_000, seed: UInt64(k + 1))
            try compare(name, bars, signal, s, first: 20)
        }
        XCTAssertEqual(reasonsSeen, ["signal", "end_of_data", "stop_loss", "take_profit", "trailing_stop"], "every exit reason occurs")
    }

    func testHandCheckedGapsTiesAndReverse() throws {
        // Bar 0 signals BUY; bar 1 fills at 100 (no slippage, no fee); stop 5% = 95, target 10% = 110.
        func run(_ o: [Double], _ h: [Double], _ l: [Double], _ c: [Double], _ sig: [Int8], _ change: (inout ExecutionSettings) -> Void) throws -> [Trade] {
            let bars = Bars(timestamps: (0..<o.count).map(Int64.init), open: o, high: h, low: l, close: c, volume: o.map { _ in 1 })
            var s = ExecutionSettings()
            s.commission = 0; s.slippage = 0; s.positionSize = 1; s.confidenceThreshold = 0; s.minSignalSeparation = 0
            change(&s)
            return try BacktestEngine.run(bars: bars, first: 0, last: o.count - 1, signal: sig, confidence: [], settings: s).trades
        }
        let exits: (inout ExecutionSettings) -> Void = { $0.stopLoss = .fraction(0.05); $0.takeProfit = .fraction(0.10) }
        // Both levels inside bar 2: the stop fills first, at 95.
        var t = try run([100, 100, 100, 100], [100, 101, 111, 101], [100, 99, 94, 99], [100, 100, 100, 100], [1, 0, 0, 0], exits)
        XCTAssertEqual(t.first?.exitReason, .stopLoss)
        XCTAssertEqual(t.first?.exitPrice, 95)
        // A gap down through the stop at bar 2's open fills at the open (90), not at 95.
        t = try run([100, 100, 90, 90], [100, 101, 91, 91], [100, 99, 89, 89], [100, 100, 90, 90], [1, 0, 0, 0], exits)
        XCTAssertEqual(t.first?.exitReason, .stopLoss)
        XCTAssertEqual(t.first?.exitPrice, 90)
        // A gap up through the target fills at the open (115).
        t = try run([100, 100, 115, 115], [100, 101, 116, 116], [100, 99, 114, 114], [100, 100, 115, 115], [1, 0, 0, 0], exits)
        XCTAssertEqual(t.first?.exitReason, .takeProfit)
        XCTAssertEqual(t.first?.exitPrice, 115)
        // Trailing 5%: peak 120 on bar 2, so bar 3 exits at 114 when its low reaches it.
        t = try run([100, 100, 110, 118, 118], [100, 101, 120, 119, 119], [100, 99, 109, 113, 113], [100, 100, 118, 118, 118], [1, 0, 0, 0, 0]) {
            $0.trailingStop = .fraction(0.05)
        }
        XCTAssertEqual(t.first?.exitReason, .trailingStop)
        XCTAssertEqual(t.first?.exitPrice, 114)
        XCTAssertEqual(t.first?.exitTime, 3)
        // Stop-and-reverse: short from bar 1, BUY on bar 2 closes at bar 3's open and goes long there.
        t = try run([100, 100, 98, 97, 99], [100, 100, 99, 98, 100], [100, 99, 97, 96, 98], [100, 99, 98, 97, 99], [-1, 0, 1, 0, 0]) { $0.allowShort = true }
        XCTAssertEqual(t.map(\.side), [-1, 1])
        XCTAssertEqual(t.map(\.entryTime), [1, 3])
        XCTAssertEqual(t.map(\.exitReason), [.signal, .endOfData])
        // Risk sizing: 1% of 100,000 at a 5% stop from 100 → 200 units.
        t = try run([100, 100, 100], [100, 100, 100], [100, 100, 100], [100, 100, 100], [1, 0, 0]) { $0.stopLoss = .fraction(0.05); $0.sizing = .risk(0.01) }
        XCTAssertEqual(t.first?.quantity, 200)
    }

    func testTradingSectionIsParsedAndChecked() throws {
        let base = "name: s\nplugin: sma_crossover\ndata: {symbols: [A], timeframes: [1d]}\n"
        let good = try StrategyLoader.parse(base + "trading: {stop_loss: 0.02, take_profit: {atr: 3, period: 10}, trailing_stop: {atr: 2}, sizing: {risk: 0.01}}\n",
                                            fileName: "s.yaml", expectedName: nil)
        let s = good.executionSettings(initialCapital: 1, commission: 0, slippage: 0)
        XCTAssertEqual(s.stopLoss, .fraction(0.02))
        XCTAssertEqual(s.takeProfit, .atr(multiple: 3, period: 10))
        XCTAssertEqual(s.trailingStop, .atr(multiple: 2, period: 14))
        XCTAssertEqual(s.sizing, .risk(0.01))
        XCTAssertEqual(s.exitWarmup, 15)
        XCTAssertThrowsError(try StrategyLoader.parse(base + "trading: {sizing: {risk: 0.01}}\n", fileName: "s.yaml", expectedName: nil)) {
            XCTAssertTrue("\($0)".contains("trading.sizing.risk"), "\($0)")
        }
        XCTAssertThrowsError(try StrategyLoader.parse(base + "trading: {stop_loss: {atr: 2, periods: 3}}\n", fileName: "s.yaml", expectedName: nil)) {
            XCTAssertTrue("\($0)".contains("trading.stop_loss.periods"), "\($0)")
        }
        XCTAssertThrowsError(try StrategyLoader.parse(base + "trading: {take_profit: -1}\n", fileName: "s.yaml", expectedName: nil)) {
            XCTAssertTrue("\($0)".contains("trading.take_profit"), "\($0)")
        }
    }
}
