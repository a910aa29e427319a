/// OHLCV bars as column arrays: one contiguous `[Double]` per field, timestamps in
/// UTC epoch seconds. Column layout keeps indicator and engine loops vectorisable.
public struct Bars: Sendable, Equatable {
    public var timestamps: [Int64]
    public var open: [Double]
    public var high: [Double]
    public var low: [Double]
    public var close: [Double]
    public var volume: [Double]

    public init(timestamps: [Int64], open: [Double], high: [Double], low: [Double], close: [Double], volume: [Double]) {
        precondition([open.count, high.count, low.count, close.count, volume.count].allSatisfy { $0 == timestamps.count },
                     "Bars columns must have equal length")
        self.timestamps = timestamps
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
    }

    public init() { self.init(timestamps: [], open: [], high: [], low: [], close: [], volume: []) }

    public var count: Int { timestamps.count }
    public var isEmpty: Bool { timestamps.isEmpty }

    /// A copy of the bars in `range` (indices).
    public func slice(_ range: Range<Int>) -> Bars {
        Bars(timestamps: Array(timestamps[range]), open: Array(open[range]), high: Array(high[range]),
             low: Array(low[range]), close: Array(close[range]), volume: Array(volume[range]))
    }

    /// First index whose timestamp is >= `t` (binary search; timestamps strictly increase).
    public func firstIndex(atOrAfter t: Int64) -> Int { timestamps.firstIndex(atOrAfter: t) }

    /// A named price column, as strategies and indicator `source:` fields refer to it.
    public func column(_ name: String) -> [Double]? {
        switch name {
        case "open": open
        case "high": high
        case "low": low
        case "close": close
        case "volume": volume
        default: nil
        }
    }
}

extension Array where Element == Int64 {
    /// First index at or after `low` whose time is >= `t`, or `count` (binary search over
    /// increasing times).
    public func firstIndex(atOrAfter t: Int64, from low: Int = 0) -> Int {
        var lo = low, hi = count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if self[mid] < t { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
