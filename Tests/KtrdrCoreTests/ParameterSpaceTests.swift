import Foundation
import KtrdrCore
import XCTest

/// Sweep grids, `--where` conditions and ranking (the research loop's pure parts).
final class ParameterSpaceTests: XCTestCase {
    func testRangesListsAndDecimals() throws {
        XCTAssertEqual(try ParameterAxis.parse(name: "f", "5:50:5").values, [5, 10, 15, 20, 25, 30, 35, 40, 45, 50])
        XCTAssertEqual(try ParameterAxis.parse(name: "f", "5:52:5").values.last, 50, "stop is inclusive only when a step lands on it")
        XCTAssertEqual(try ParameterAxis.parse(name: "c", "0.1:0.3:0.1").values, [0.1, 0.2, 0.3], "rounded to the decimals written")
        XCTAssertEqual(try ParameterAxis.parse(name: "c", "0.55:0.75:0.05").values, [0.55, 0.6, 0.65, 0.7, 0.75])
        XCTAssertEqual(try ParameterAxis.parse(name: "f", "7").values, [7])
        XCTAssertEqual(try ParameterAxis.parse(name: "f", "3,1,2").values, [3, 1, 2], "lists keep their order")
        for bad in ["", "a:b:c", "5:1:1", "1:5:0", "1:5:-1", "1,1", "1::2", "1:2", "1:1e9:1"] {
            XCTAssertThrowsError(try ParameterAxis.parse(name: "f", bad), bad) { error in
                XCTAssertTrue("\(error)".contains("params.f"), "\(bad): \(error)")
            }
        }
    }

    func testTheGridOfTheBenchmarkHas174Trials() throws {
        let space = ParameterSpace(axes: [try ParameterAxis.parse(name: "fast_period", "5:50:5"), try ParameterAxis.parse(name: "slow_period", "20:200:10")],
                                   condition: try Condition("fast_period < slow_period", names: ["fast_period", "slow_period"]))
        XCTAssertEqual(space.gridSize, 190)
        let trials = try space.grid(limit: 1000)
        // Independent count: every pair of the two lists with fast < slow.
        var expected = [[Double]]()
        for f in 1...10 {
            for s in 2...20 where f * 5 < s * 10 { expected.append([Double(f * 5), Double(s * 10)]) }
        }
        XCTAssertEqual(trials, expected, "grid order: first axis slowest")
        XCTAssertEqual(trials.count, 174)
        XCTAssertThrowsError(try space.grid(limit: 100))
    }

    func testRandomSamplesAreDistinctSeededAndAdmissible() throws {
        let names = ["a", "b"]
        let space = ParameterSpace(axes: [ParameterAxis(name: "a", values: (1...300).map(Double.init)), ParameterAxis(name: "b", values: (1...300).map(Double.init))],
                                   condition: try Condition("a < b", names: names))
        let one = try space.random(samples: 500, seed: 7, limit: 100_000)
        XCTAssertEqual(one, try space.random(samples: 500, seed: 7, limit: 100_000), "same seed, same trials in the same order")
        XCTAssertNotEqual(one, try space.random(samples: 500, seed: 8, limit: 100_000))
        XCTAssertEqual(Set(one).count, 500)
        XCTAssertTrue(one.allSatisfy { $0[0] < $0[1] })
        let huge = ParameterSpace(axes: (0..<4).map { ParameterAxis(name: "p\($0)", values: (1...1000).map(Double.init)) })
        let drawn = try huge.random(samples: 200, seed: 1, limit: 100_000)
        XCTAssertEqual(Set(drawn).count, 200, "a grid too big to list is sampled point by point")
    }

    func testConditions() throws {
        let names = ["fast", "slow", "k"]
        func holds(_ text: String, _ v: [Double]) throws -> Bool { try Condition(text, names: names).holds(v) }
        XCTAssertTrue(try holds("fast < slow", [5, 20, 1]))
        XCTAssertFalse(try holds("fast < slow", [20, 20, 1]))
        XCTAssertTrue(try holds("slow >= 2 * fast and fast != 15", [10, 20, 1]))
        XCTAssertFalse(try holds("slow >= 2 * fast && fast != 15", [15, 40, 1]))
        XCTAssertTrue(try holds("not (fast > slow) or k == 3", [30, 20, 3]))
        XCTAssertTrue(try holds("!(fast > slow)", [1, 2, 0]))
        XCTAssertTrue(try holds("-fast + slow % 7 == -3", [5, 16, 0]))
        XCTAssertTrue(try holds("(slow - fast) / 5 >= 2.5", [5, 20, 0]))
        for (bad, words) in [("fast < slwo", "did you mean 'slow'?"), ("fast = slow", "use '=='"), ("fast <", "expected a number"),
                             ("(fast < slow", "expected ')'"), ("fast < slow )", "unexpected ')'"), ("fast $ slow", "unexpected '$ slow'")] {
            XCTAssertThrowsError(try Condition(bad, names: names), bad) { error in
                XCTAssertTrue("\(error)".contains(words), "\(bad): \(error)")
            }
        }
    }

    func testRankingIsBestFirstWithUndefinedLastAndStableTies() throws {
        func metrics(_ sharpe: Double?, _ dd: Double) -> Metrics {
            var fields = [String: Any]()
            for f in Metrics.Field.allCases { fields[f.json] = f.kind == .integer ? 0 : 1.0 }
            fields["sharpe_ratio"] = sharpe ?? NSNull()
            fields["max_drawdown_pct"] = dd
            let data = try! JSONSerialization.data(withJSONObject: fields)
            return try! KtrdrJSON.decoder().decode(Metrics.self, from: data)
        }
        let ms: [Metrics?] = [metrics(0.5, 10), metrics(nil, 5), metrics(1.5, 30), metrics(0.5, 1), nil, metrics(-1, 2)]
        XCTAssertEqual(try RankMetric("sharpe_ratio").order(ms), [2, 0, 3, 5, 1, 4])
        XCTAssertEqual(try RankMetric("max_drawdown_pct").order(ms), [3, 5, 1, 0, 2, 4], "drawdowns rank lowest first")
        XCTAssertEqual(try RankMetric("sharpe_ratio", order: "asc").order(ms), [5, 0, 3, 2, 1, 4])
        XCTAssertThrowsError(try RankMetric("sharpe")) { XCTAssertTrue("\($0)".contains("did you mean 'sharpe_ratio'?"), "\($0)") }
        XCTAssertThrowsError(try RankMetric("sharpe_ratio", order: "up"))
    }
}
