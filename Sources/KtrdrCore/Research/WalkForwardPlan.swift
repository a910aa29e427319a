/// One walk-forward window, in bar indices of the data file: `train` bars in sample, then the
/// `test` bars right after them out of sample. Ends are exclusive.
public struct WalkForwardWindow: Sendable, Equatable, Codable {
    public var index: Int
    public var trainStart: Int
    public var trainEnd: Int
    public var testStart: Int
    public var testEnd: Int

    public init(index: Int, trainStart: Int, trainEnd: Int, testStart: Int, testEnd: Int) {
        self.index = index
        self.trainStart = trainStart
        self.trainEnd = trainEnd
        self.testStart = testStart
        self.testEnd = testEnd
    }
}

/// Window arithmetic: the first window's training starts at bar `first` (after the longest
/// warm-up any trial needs, so every in-sample run is warm); each next window starts `step`
/// bars later; windows stop when the out-of-sample part would pass the last bar.
public enum WalkForwardPlan {
    public static let maximumWindows = 1_000

    public static func windows(bars: Int, first: Int, train: Int, test: Int, step: Int) throws(KtrdrError) -> [WalkForwardWindow] {
        guard train >= 2 else { throw .invalidRequest("train: \(train) bars; at least 2") }
        guard test >= 1 else { throw .invalidRequest("test: \(test) bars; at least 1") }
        guard step >= test else {
            throw .invalidRequest("step: \(step) bars is shorter than test (\(test)): out-of-sample windows would overlap and the stitched curve would count bars twice")
        }
        guard first >= 0, first + train + test <= bars else {
            throw .insufficientData(needed: first + train + test, found: bars,
                                    detail: "bars for one walk-forward window: \(first) warm-up + \(train) train + \(test) test")
        }
        let count = (bars - first - train - test) / step + 1
        guard count <= maximumWindows else {
            throw .invalidRequest("\(count) windows; at most \(maximumWindows) (use a longer step)")
        }
        return (0..<count).map { k in
            let start = first + k * step
            return WalkForwardWindow(index: k, trainStart: start, trainEnd: start + train, testStart: start + train, testEnd: start + train + test)
        }
    }
}
