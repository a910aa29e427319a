import KtrdrCore
import XCTest

/// Walk-forward window arithmetic (`WalkForwardPlan`).
final class WalkForwardPlanTests: XCTestCase {
    func testWindowsTileAfterTheWarmUp() throws {
        let w = try WalkForwardPlan.windows(bars: 5000, first: 60, train: 1000, test: 500, step: 500)
        // (5000 - 60 - 1500) / 500 + 1 = 7 windows; the last test part ends at 60 + 6 * 500 + 1500 = 4560.
        XCTAssertEqual(w.count, 7)
        XCTAssertEqual(w[0], WalkForwardWindow(index: 0, trainStart: 60, trainEnd: 1060, testStart: 1060, testEnd: 1560))
        XCTAssertEqual(w[6], WalkForwardWindow(index: 6, trainStart: 3060, trainEnd: 4060, testStart: 4060, testEnd: 4560))
        for (a, b) in zip(w, w.dropFirst()) {
            XCTAssertEqual(a.testEnd, b.testStart, "test parts tile when step == test")
            XCTAssertEqual(b.trainStart - a.trainStart, 500)
        }
        XCTAssertTrue(w.allSatisfy { $0.trainEnd == $0.testStart && $0.testEnd <= 5000 }, "test bars right after training, inside the file")
    }

    func testExactFitAndGaps() throws {
        XCTAssertEqual(try WalkForwardPlan.windows(bars: 1500, first: 0, train: 1000, test: 500, step: 500).count, 1, "exactly one window fits")
        let gaps = try WalkForwardPlan.windows(bars: 3000, first: 0, train: 1000, test: 200, step: 700)
        XCTAssertEqual(gaps.map(\.testStart), [1000, 1700, 2400])
    }

    func testRefusals() {
        XCTAssertThrowsError(try WalkForwardPlan.windows(bars: 1400, first: 0, train: 1000, test: 500, step: 500)) {
            XCTAssertEqual(($0 as? KtrdrError)?.code, "insufficient_data")
        }
        XCTAssertThrowsError(try WalkForwardPlan.windows(bars: 5000, first: 0, train: 1000, test: 500, step: 100)) {
            XCTAssertTrue("\($0)".contains("overlap"), "\($0)")
        }
        XCTAssertThrowsError(try WalkForwardPlan.windows(bars: 5000, first: 0, train: 1, test: 5, step: 5))
        XCTAssertThrowsError(try WalkForwardPlan.windows(bars: 5000, first: 0, train: 10, test: 0, step: 5))
        XCTAssertThrowsError(try WalkForwardPlan.windows(bars: 10_000_000, first: 0, train: 10, test: 5, step: 5)) {
            XCTAssertTrue("\($0)".contains("at most 1000"), "\($0)")
        }
    }
}
