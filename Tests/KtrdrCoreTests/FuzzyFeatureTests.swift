import KtrdrCore
import XCTest
import KtrdrFiles

final class FuzzyFeatureTests: XCTestCase {
    func testMembershipShapes() {
        let tri = Membership.triangular(0, 20, 35)
        XCTAssertEqual(tri.degree(20), 1)
        XCTAssertEqual(tri.degree(10), 0.5)
        XCTAssertEqual(tri.degree(27.5), 0.5)
        XCTAssertEqual(tri.degree(0), 0)
        XCTAssertEqual(tri.degree(40), 0)
        XCTAssertTrue(tri.degree(.nan).isNaN)
        XCTAssertEqual(Membership.triangular(0, 0, 10).degree(0), 1)  // a == b: exactly 1 at b
        XCTAssertEqual(Membership.triangular(0, 10, 10).degree(10), 1)
        let trap = Membership.trapezoidal(0, 10, 20, 30)
        XCTAssertEqual(trap.degree(15), 1)
        XCTAssertEqual(trap.degree(5), 0.5)
        XCTAssertEqual(trap.degree(25), 0.5)
        XCTAssertEqual(trap.degree(30), 0)
        XCTAssertEqual(Membership.gaussian(mu: 50, sigma: 10).degree(60), exp(-0.5), accuracy: 1e-15)
    }

    func testFeatureOrderAndLagsForNeuroStrategy() throws {
        let config = try StrategyLoader.load(name: "neuro_mean_reversion", directory: Repo.path("strategies"))
        let names = FeatureBuilder.featureNames(for: config)
        let base = ["rsi_14_oversold", "rsi_14_neutral", "rsi_14_overbought",
                    "macd_12_26_9_histogram_negative", "macd_12_26_9_histogram_flat", "macd_12_26_9_histogram_positive"]
        XCTAssertEqual(names, base + base.map { $0 + "_lag_1" } + base.map { $0 + "_lag_2" })

        let bars = try Repo.bars("EURUSD_1h")
        let m = FeatureBuilder.build(config, bars: bars)
        XCTAssertEqual(m.rows, bars.count)
        XCTAssertEqual(m.values.count, bars.count * names.count)
        let rsi = TA.rsi(bars.close, period: 14)
        let t = 300
        XCTAssertEqual(m[t, 0], Membership.triangular(0, 20, 35).degree(rsi[t]))
        XCTAssertEqual(m[t, 1], Membership.triangular(30, 50, 70).degree(rsi[t]))
        XCTAssertEqual(m[t, 6], m[t - 1, 0])  // lag 1
        XCTAssertEqual(m[t, 13], m[t - 2, 1])  // lag 2
        // Warm-up rows are NaN, never a made-up value; from the warm-up on, every value is in [0, 1].
        XCTAssertTrue(m[0, 0].isNaN)
        for row in 40..<m.rows { for c in 0..<m.columns { XCTAssertTrue((0...1).contains(m[row, c]), "row \(row) col \(c)") } }
    }
}
