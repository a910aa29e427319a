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

    func testWindowLengthsParse() throws {
        XCTAssertEqual(try WindowLength.parse("1000", field: "train"), .bars(1000))
        XCTAssertEqual(try WindowLength.parse("6mo", field: "train"), .span(6, .month))
        XCTAssertEqual(try WindowLength.parse("90min", field: "train"), .span(90, .minute))
        XCTAssertEqual(try WindowLength.parse("1y", field: "train"), .span(1, .year))
        for bad in ["", "0", "01d", "6m", "mo", "-3d", "1.5d", "1234567890"] {
            XCTAssertThrowsError(try WindowLength.parse(bad, field: "train"), bad) { XCTAssertTrue("\($0)".contains("train"), "\($0)") }
        }
        XCTAssertTrue("\((try? WindowLength.parse("6m", field: "test")).map { "\($0)" } ?? "")".isEmpty)
    }

    func testCalendarSpansKeepTheDayOfTheMonth() {
        let t = UTCTime.parse("2020-01-31T09:30:00Z")!
        XCTAssertEqual(UTCTime.iso(WindowLength.span(1, .month).advance(t)), "2020-02-29T09:30:00Z")
        XCTAssertEqual(UTCTime.iso(WindowLength.span(13, .month).advance(t)), "2021-02-28T09:30:00Z")
        XCTAssertEqual(UTCTime.iso(WindowLength.span(1, .month).advance(t, times: 3)), "2020-04-30T09:30:00Z")
        XCTAssertEqual(UTCTime.iso(WindowLength.span(1, .year).advance(UTCTime.parse("2020-02-29")!)), "2021-02-28T00:00:00Z")
        XCTAssertEqual(WindowLength.span(2, .week).advance(t) - t, 14 * 86_400)
        XCTAssertEqual(WindowLength.bars(10).advance(t), t)
    }

    /// Six months in sample, one out, on weekday bars: each part holds exactly the bars whose
    /// time falls in its span (checked by filtering every bar), and the test parts tile.
    func testSpanWindowsOnWeekdayBars() throws {
        let start = UTCTime.parse("2020-01-01")!
        var ts = [Int64]()
        for day in 0..<(3 * 365) {
            let t: Int64 = start + Int64(day) * 86_400
            let weekday: Int64 = (t / 86_400 + 3) % 7  // 0 = Monday (1970-01-01 was a Thursday)
            if weekday < 5 { ts.append(t) }
        }
        let six = WindowLength.span(6, .month), one = WindowLength.span(1, .month)
        let w = try WalkForwardPlan.windows(timestamps: ts, first: 20, train: six, test: one, step: one)
        XCTAssertEqual(w.count, 29, "from 2020-01-29 plus 7 months, one window a month until the data ends in 2022-12")
        for window in w {
            // Every boundary counts whole months from the first window's start (no drift from the 29th on).
            let anchor = one.advance(ts[20], times: window.index)
            let testFrom = WindowLength.span(window.index + 6, .month).advance(ts[20])
            let testTo = WindowLength.span(window.index + 7, .month).advance(ts[20])
            XCTAssertEqual(window.trainStart, ts.firstIndex { $0 >= anchor })
            XCTAssertEqual(window.trainEnd - window.trainStart, ts.filter { $0 >= anchor && $0 < testFrom }.count)
            XCTAssertEqual(window.testEnd - window.testStart, ts.filter { $0 >= testFrom && $0 < testTo }.count)
            XCTAssertEqual(window.testStart, window.trainEnd)
        }
        for (a, b) in zip(w, w.dropFirst()) { XCTAssertEqual(a.testEnd, b.testStart, "one-month test parts tile") }
        // Bars and spans mix; all bars gives the bar arithmetic.
        XCTAssertEqual(try WalkForwardPlan.windows(timestamps: ts, first: 20, train: .bars(100), test: .bars(50), step: .bars(50)),
                       try WalkForwardPlan.windows(bars: ts.count, first: 20, train: 100, test: 50, step: 50))
        let mixed = try WalkForwardPlan.windows(timestamps: ts, first: 0, train: .bars(250), test: .bars(20), step: .span(2, .month))
        XCTAssertTrue(mixed.count > 10 && mixed.allSatisfy { $0.trainEnd - $0.trainStart == 250 && $0.testEnd - $0.testStart == 20 })
        XCTAssertThrowsError(try WalkForwardPlan.windows(timestamps: ts, first: 0, train: six, test: .span(2, .month), step: one)) {
            XCTAssertTrue("\($0)".contains("overlap"), "\($0)")
        }
        XCTAssertThrowsError(try WalkForwardPlan.windows(timestamps: ts, first: 0, train: .span(12, .hour), test: one, step: one)) {
            XCTAssertTrue("\($0)".contains("in sample"), "\($0)")
        }
        XCTAssertThrowsError(try WalkForwardPlan.windows(timestamps: ts, first: 0, train: .span(5, .year), test: one, step: one)) {
            XCTAssertEqual(($0 as? KtrdrError)?.code, "insufficient_data")
        }
    }
}
