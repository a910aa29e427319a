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

    /// Windows over the bars' times, each length in bars or as a calendar span (a span's part
    /// holds the bars whose time falls in it). Span anchors count from the first window's
    /// start, so gaps in the data never make the windows drift.
    public static func windows(timestamps ts: [Int64], first: Int, train: WindowLength, test: WindowLength,
                               step: WindowLength) throws(KtrdrError) -> [WalkForwardWindow] {
        if case let .bars(tr) = train, case let .bars(te) = test, case let .bars(st) = step {
            return try windows(bars: ts.count, first: first, train: tr, test: te, step: st)
        }
        let n = ts.count
        guard first >= 0, first + 2 < n else {
            throw .insufficientData(needed: first + 3, found: n, detail: "bars for one walk-forward window after \(first) warm-up bars")
        }
        let covered = ts[n - 1] + (ts[n - 1] - ts[n - 2])  // the end of the last bar
        var out = [WalkForwardWindow]()
        while true {
            let k = out.count
            // Each boundary is a bar-given time (`origin`) plus the spans added since, as one offset.
            var origin: Int64, offset = WindowLength.Offset()
            let start: Int
            if case let .bars(b) = step {
                start = first + k * b
                guard start < n else { break }
                origin = ts[start]
            } else {
                origin = ts[first]
                offset = step.offset(times: k)
                start = ts.firstIndex(atOrAfter: offset.applied(to: origin), from: first)
                guard start < n else { break }
            }
            let anchor = offset.applied(to: origin)
            let trainEnd: Int
            if case let .bars(b) = train {
                trainEnd = start + b
                guard trainEnd < n else { break }
                (origin, offset) = (ts[trainEnd], WindowLength.Offset())
            } else {
                offset = offset + train.offset()
                guard offset.applied(to: origin) < covered else { break }
                trainEnd = ts.firstIndex(atOrAfter: offset.applied(to: origin), from: start)
            }
            let testEnd: Int
            if case let .bars(b) = test {
                testEnd = trainEnd + b
                guard testEnd <= n else { break }
            } else {
                offset = offset + test.offset()
                guard offset.applied(to: origin) <= covered else { break }
                testEnd = ts.firstIndex(atOrAfter: offset.applied(to: origin), from: trainEnd)
            }
            let window = "window \(k) (training from \(UTCTime.short(anchor)))"
            guard trainEnd - start >= 2 else {
                throw .invalidRequest("\(window): \(trainEnd - start) bars in sample with train \(train); at least 2 (a gap in the data, or a span shorter than two bars)")
            }
            guard testEnd > trainEnd else {
                throw .invalidRequest("\(window): no bar out of sample with test \(test) (a gap in the data, or a span shorter than one bar)")
            }
            if let last = out.last, trainEnd < last.testEnd {
                throw .invalidRequest("step \(step) is shorter than test \(test): out-of-sample windows would overlap and the stitched curve would count bars twice")
            }
            out.append(WalkForwardWindow(index: k, trainStart: start, trainEnd: trainEnd, testStart: trainEnd, testEnd: testEnd))
            guard out.count <= maximumWindows else { throw .invalidRequest("more than \(maximumWindows) windows (use a longer step)") }
        }
        guard !out.isEmpty else {
            throw .insufficientData(needed: first + 3, found: n, detail: "no complete walk-forward window of train \(train) and test \(test) "
                + "between \(UTCTime.short(ts[first])) (after \(first) warm-up bars) and \(UTCTime.short(ts[n - 1]))")
        }
        return out
    }
}
