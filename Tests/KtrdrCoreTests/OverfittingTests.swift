import Foundation
import KtrdrCore
import XCTest

/// The deflated Sharpe ratio and PBO (CSCV) against numpy on fixed inputs
/// (`scripts/make_overfitting_fixture.py` wrote the fixture; formulas in `Overfitting`).
final class OverfittingTests: XCTestCase {
    struct Fixture: Decodable {
        var equity: [[Double]]
        var mean: [Double], variance: [Double], skewness: [Double], kurtosis: [Double]
        var best: Int
        var expectedMaxSharpe: Double, deflatedSharpe: Double, pbo: Double, splits: Int
        var quantiles: [String: Double]
    }

    func fixture() throws -> Fixture {
        try KtrdrJSON.decoder().decode(Fixture.self, from: Data(contentsOf: URL(fileURLWithPath: Repo.fixture("overfitting.json"))))
    }

    func testReturnMomentsMatchNumpy() throws {
        let f = try fixture()
        for (j, e) in f.equity.enumerated() {
            let s = ReturnStats.of(equity: e)
            XCTAssertEqual(s.count, e.count - 1)
            // Summation order differs from numpy's pairwise sums: relative 1e-12.
            XCTAssertEqual(s.mean, f.mean[j], accuracy: 1e-12 * Swift.abs(f.mean[j]) + 1e-18)
            XCTAssertEqual(s.variance, f.variance[j], accuracy: 1e-12 * f.variance[j])
            XCTAssertEqual(s.skewness, f.skewness[j], accuracy: 1e-9)
            XCTAssertEqual(s.kurtosis, f.kurtosis[j], accuracy: 1e-9)
            XCTAssertEqual(s.blocks.map { $0[0] }, [Double](repeating: 30, count: 16), "16 equal blocks of 30 returns")
        }
    }

    func testDeflatedSharpeMatchesNumpy() throws {
        let f = try fixture()
        let stats = f.equity.map { ReturnStats.of(equity: $0) }
        let sharpes = stats.map(\.sharpe)
        XCTAssertEqual(sharpes.indices.max { sharpes[$0] < sharpes[$1] }, f.best)
        let d = try XCTUnwrap(Overfitting.deflatedSharpe(best: stats[f.best], sharpes: sharpes))
        XCTAssertEqual(d.expectedMax, f.expectedMaxSharpe, accuracy: 1e-10)
        XCTAssertEqual(d.dsr, f.deflatedSharpe, accuracy: 1e-9)
    }

    func testPBOMatchesNumpyExactly() throws {
        let f = try fixture()
        let result = try XCTUnwrap(Overfitting.pbo(f.equity.map { ReturnStats.of(equity: $0) }))
        XCTAssertEqual(result.splits, 12_870)
        XCTAssertEqual(result.splits, f.splits)
        // A count of splits: equal unless a ranking flips on a 1e-15 difference, which the fixture's values avoid.
        XCTAssertEqual(result.pbo, f.pbo, accuracy: 0.5 / Double(f.splits))
    }

    func testNormalQuantileMatchesPython() throws {
        for (p, z) in try fixture().quantiles {
            XCTAssertEqual(Overfitting.normalQuantile(Double(p)!), z, accuracy: 1e-14 * max(1, Swift.abs(z)), p)
        }
        XCTAssertEqual(Overfitting.normalCDF(1.959963984540054), 0.975, accuracy: 1e-15)
    }

    func testDegenerateInputs() {
        XCTAssertNil(Overfitting.pbo([ReturnStats.of(equity: [1, 2, 3])]), "one trial: nothing to compare")
        XCTAssertEqual(ReturnStats.of(equity: [100, 100, 100]).sharpe, 0, "flat equity")
        XCTAssertEqual(Overfitting.expectedMaxSharpe(trials: 1, sharpeVariance: 1), 0)
    }
}
