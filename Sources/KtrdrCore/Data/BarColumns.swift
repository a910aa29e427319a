/// A borrowed, zero-copy view of OHLCV columns: what strategies compute on, whether the
/// columns live in a `Bars` of this process or arrive through the plugin C ABI.
/// Valid only inside the call that lends it.
public struct BarColumns {
    public let timestamps: UnsafeBufferPointer<Int64>
    public let open: UnsafeBufferPointer<Double>
    public let high: UnsafeBufferPointer<Double>
    public let low: UnsafeBufferPointer<Double>
    public let close: UnsafeBufferPointer<Double>
    public let volume: UnsafeBufferPointer<Double>

    public init(timestamps: UnsafeBufferPointer<Int64>, open: UnsafeBufferPointer<Double>, high: UnsafeBufferPointer<Double>,
                low: UnsafeBufferPointer<Double>, close: UnsafeBufferPointer<Double>, volume: UnsafeBufferPointer<Double>) {
        self.timestamps = timestamps
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
    }

    public var count: Int { timestamps.count }

    /// An owned copy, for strategies that need `Bars` (indicator sets, feature matrices).
    public func materialize() -> Bars {
        Bars(timestamps: Array(timestamps), open: Array(open), high: Array(high), low: Array(low),
             close: Array(close), volume: Array(volume))
    }
}

extension Bars {
    /// Lends the columns as a `BarColumns` view for the duration of `body`.
    public func withColumns<R, E: Error>(_ body: (BarColumns) throws(E) -> R) throws(E) -> R {
        let result: Result<R, E> = timestamps.withUnsafeBufferPointer { t in
            open.withUnsafeBufferPointer { o in
                high.withUnsafeBufferPointer { h in
                    low.withUnsafeBufferPointer { l in
                        close.withUnsafeBufferPointer { c in
                            volume.withUnsafeBufferPointer { v in
                                do throws(E) {
                                    return .success(try body(BarColumns(timestamps: t, open: o, high: h, low: l, close: c, volume: v)))
                                } catch { return .failure(error) }
                            }
                        }
                    }
                }
            }
        }
        return try result.get()
    }
}
