import Dispatch
import KtrdrCore
import KtrdrStrategies
import Synchronization
import XCTest

/// Indicator series shared between a sweep's trials (`IndicatorCache`): the same bits as the
/// series computed alone, each computed once, and the strategies' decisions unchanged.
final class IndicatorSharingTests: XCTestCase {
    static func bars(_ close: [Double]) -> Bars {
        Bars(timestamps: (0..<close.count).map(Int64.init), open: close, high: close.map { $0 * 1.001 }, low: close.map { $0 * 0.999 },
             close: close, volume: close.map { ($0 * 1000).rounded() })
    }

    func bitsEqual(_ a: UnsafeBufferPointer<Double>, _ b: [Double], _ message: String) {
        XCTAssertEqual(a.count, b.count, message)
        XCTAssertTrue(zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern }, message)
    }

    func testSharedSeriesAreBitIdenticalToOnesComputedAloneAndComputedOnce() throws {
        let bars = Self.bars(SyntheticData(bars: 50_000, seed: 3).generate().close)
        let cache = IndicatorCache()
        let key = IndicatorCache.BarsKey(file: "SYNTH", range: 0..<bars.count)
        let specs = [5, 10, 20, 50].map { IndicatorSpec(kind: .sma, featureId: "SMA", parameters: ["period": Double($0)]) }
            + [IndicatorSpec(kind: .rsi, featureId: "RSI", parameters: ["period": 14]),
               IndicatorSpec(kind: .bollingerBands, featureId: "BB", parameters: ["period": 20, "multiplier": 2])]
        let alone = specs.map { $0.compute(bars).map(\.values) }
        let failures = Mutex(0)
        // 24 "trials" on as many threads as there are, each asking for every series in its own order.
        DispatchQueue.concurrentPerform(iterations: 24) { trial in
            let source = cache.source(for: bars, key: key)
            for i in specs.indices.shuffled() {
                for output in 0..<specs[i].kind.outputs.count {
                    guard let s = try? source.series(specs[i], output: output),
                          s.count == bars.count, zip(s, alone[i][output]).allSatisfy({ $0.bitPattern == $1.bitPattern }) else {
                        failures.withLock { $0 += 1 }
                        continue
                    }
                }
            }
        }
        XCTAssertEqual(failures.withLock { $0 }, 0)
        XCTAssertEqual(cache.computedCount, 4 + 1 + 3, "each distinct (kind, parameters, output) computed once for 24 trials")
        XCTAssertEqual(cache.cachedBytes, 8 * bars.count * 8)
        // Another range of the same file is other data: its own series, equal to its own computed alone.
        let slice = bars.slice(1_000..<40_000)
        let sliced = try cache.source(for: slice, key: .init(file: "SYNTH", range: 1_000..<40_000)).series(specs[1], output: 0)
        bitsEqual(sliced, specs[1].compute(slice)[0].values, "SMA(10) over a slice")
        XCTAssertEqual(cache.computedCount, 9)
    }

    func testEvictionBeyondTheBudgetKeepsSeriesInUseAndRecomputesTheSameBits() throws {
        let bars = Self.bars(SyntheticData(bars: 10_000, seed: 5).generate().close)
        let cache = IndicatorCache(budgetBytes: 2 * 8 * bars.count)  // two series
        let key = IndicatorCache.BarsKey(file: "S", range: 0..<bars.count)
        let source = cache.source(for: bars, key: key)
        let sma = { (p: Int) in IndicatorSpec(kind: .sma, featureId: "SMA", parameters: ["period": Double(p)]) }
        let first = try source.series(sma(7), output: 0)
        for p in 8...12 { _ = try cache.source(for: bars, key: key).series(sma(p), output: 0) }
        XCTAssertLessThanOrEqual(cache.cachedBytes, 2 * 8 * bars.count)
        bitsEqual(first, TA.sma(bars.close, period: 7), "a series evicted while a run holds it stays valid")
        let again = try cache.source(for: bars, key: key).series(sma(7), output: 0)
        bitsEqual(again, TA.sma(bars.close, period: 7), "recomputed after eviction")
        XCTAssertEqual(cache.computedCount, 7)
    }

    func testRequestsByNameAreChecked() {
        func refused(_ kind: String, _ p: [String: Double] = [:], source: String? = nil, output: Int = 0, says fragment: String) {
            XCTAssertThrowsError(try IndicatorSpec.checked(kind: kind, parameters: p, source: source, output: output)) { error in
                XCTAssertTrue("\(error)".contains(fragment), "\(error) lacks \(fragment)")
            }
        }
        refused("SMAX", says: "unknown indicator 'SMAX'")
        refused("SMA", ["length": 3], says: "unknown parameter 'length' for SMA: expected period")
        refused("SMA", ["period": 0], says: "SMA period = 0: expected a whole number in 1…10000")
        refused("SMA", ["period": 2.5], says: "expected a whole number")
        refused("RSI", source: "vwap", says: "source 'vwap'")
        refused("MACD", output: 3, says: "MACD output 3: expected 0…2 (macd, signal, histogram)")
        XCTAssertEqual(try IndicatorSpec.checked(kind: "bbands", parameters: ["period": 10], source: nil, output: 2).parameters,
                       ["period": 10, "multiplier": 2])
    }

    /// sma_crossover through shared TA-Lib SMA columns decides every bar as the canonical
    /// sums do and as its own running sums do, ties and near-ties included, over a grid.
    func testSharedCrossoverDecisionsAreBitIdenticalToComputedAlone() throws {
        var series: [(String, [Double])] = [("SYNTH", SyntheticData(bars: 20_000, seed: 11).generate().close)]
        series.append(("ties", (0..<5_000).map { 1.1 + Double([0, 3, 1, 4, 1, 5, 9, 2, 6, 5][$0 % 10]) * 0.0001 + Double($0 / 1000) * 0.0001 }))
        series.append(("flat", [Double](repeating: 42.4242, count: 2_000)))
        series.append(("large", SyntheticData(bars: 5_000, seed: 2).generate().close.map { $0 * 1e12 }))
        for (name, close) in series {
            let bars = Self.bars(close)
            let cache = IndicatorCache()
            var trials = 0
            for fast in [2, 5, 10] {
                for slow in [3, 12, 30, 61] where fast < slow {
                    let strategy = SMACrossover(fastPeriod: fast, slowPeriod: slow)
                    let shared = try strategy.signals(for: bars, indicators: cache.source(for: bars, key: .init(file: name, range: 0..<bars.count))).signal
                    let alone = try strategy.signals(for: bars).signal
                    XCTAssertEqual(shared, alone, "\(name) \(fast)/\(slow)")
                    XCTAssertEqual(shared, SMACrossoverContractTests.canonicalSignals(close, fast: fast, slow: slow), "\(name) \(fast)/\(slow)")
                    trials += 1
                }
            }
            XCTAssertEqual(trials, 10)
            XCTAssertEqual(cache.computedCount, 7, "\(name): 7 distinct periods for 10 trials")
        }
    }

    func testSharedRSIDecisionsEqualComputedAlone() throws {
        let bars = Self.bars(SyntheticData(bars: 30_000, seed: 9).generate().close)
        let cache = IndicatorCache()
        for (low, high) in [(20.0, 80.0), (30, 70), (35, 65)] {
            let strategy = RSIMeanReversion(period: 14, oversold: low, overbought: high)
            let shared = try strategy.signals(for: bars, indicators: cache.source(for: bars, key: .init(file: "R", range: 0..<bars.count)))
            let alone = try strategy.signals(for: bars)
            XCTAssertEqual(shared.signal, alone.signal)
            XCTAssertEqual(shared.confidence.map(\.bitPattern), alone.confidence.map(\.bitPattern))
            XCTAssertGreaterThan(alone.signal.filter { $0 != 0 }.count, 50)
        }
        XCTAssertEqual(cache.computedCount, 1)
    }
}
