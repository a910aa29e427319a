/// `sma_crossover` (SMA_CROSSOVER.md): BUY when the fast SMA crosses strictly above the slow
/// one (previous bar may be equal), SELL on the mirror cross. Confidence is always 1.
///
/// The SMAs use the canonical ascending window sum, bit-reproducible across engines; a
/// running sum rounds differently and would move crossovers at exact ties (§7). The window
/// sums are computed several bars at a time in SIMD lanes, each lane adding in the same
/// ascending order, so the result is bit-identical to the scalar loop but about 10x faster.
public struct SMACrossover: SignalStrategy {
    public let fastPeriod: Int
    public let slowPeriod: Int

    public init(fastPeriod: Int = 10, slowPeriod: Int = 30) {
        self.fastPeriod = fastPeriod
        self.slowPeriod = slowPeriod
    }

    public var name: String { "sma_crossover" }
    public var warmupBars: Int { max(fastPeriod, slowPeriod) }

    public func computeSignals(bars: Bars, signal: UnsafeMutableBufferPointer<Int8>,
                               confidence: UnsafeMutableBufferPointer<Double>) throws(KtrdrError) {
        let n = bars.count
        guard n > 0 else { return }
        // Both SMAs are computed block by block into a small scratch buffer and compared at
        // once, so the columns are streamed through the cache a single time.
        bars.close.withUnsafeBufferPointer { close in
            withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * Self.block) { scratch in
                let fast = scratch.baseAddress!, slow = fast + Self.block
                var prevFast = Double.nan, prevSlow = Double.nan
                var t = 0
                while t < n {
                    let count = Swift.min(Self.block, n - t)
                    Self.windowMeans(close, period: fastPeriod, from: t, count: count, into: fast)
                    Self.windowMeans(close, period: slowPeriod, from: t, count: count, into: slow)
                    for i in 0..<count {
                        let f = fast[i], s = slow[i]
                        let up = prevFast <= prevSlow && f > s
                        let down = prevFast >= prevSlow && f < s
                        signal[t + i] = up ? SignalCode.buy : (down ? SignalCode.sell : SignalCode.hold)
                        confidence[t + i] = 1
                        prevFast = f
                        prevSlow = s
                    }
                    t += count
                }
            }
        }
    }

    static let block = 256

    /// Window means for bars `from..<from+count` into `out[0..<count]` (NaN before the window fills).
    static func windowMeans(_ x: UnsafeBufferPointer<Double>, period n: Int, from: Int, count: Int, into out: UnsafeMutablePointer<Double>) {
        var i = 0
        while i < count, from + i < n - 1 { out[i] = .nan; i += 1 }
        guard i < count, let base = x.baseAddress else { return }
        windowMean(base, period: n, range: (from + i)..<(from + count), into: out + i)
    }

    /// The whole column (NaN for `t < n-1`), for callers that want the series itself.
    public static func windowMean(_ x: UnsafeBufferPointer<Double>, period n: Int, into out: UnsafeMutableBufferPointer<Double>) {
        guard n >= 1, let base = x.baseAddress, let dst = out.baseAddress else { return }
        for t in 0..<min(n - 1, x.count) { dst[t] = .nan }
        guard x.count >= n else { return }
        windowMean(base, period: n, range: (n - 1)..<x.count, into: dst + (n - 1))
    }

    /// `out[t - range.lowerBound] = (x[t-n+1] + … + x[t]) / n`, summed left to right from 0.0,
    /// for every `t` in `range` (which must start at or after `n-1`).
    static func windowMean(_ base: UnsafePointer<Double>, period n: Int, range: Range<Int>, into dst: UnsafeMutablePointer<Double>) {
        let raw = UnsafeRawPointer(base)
        let dn = Double(n)
        let stride = MemoryLayout<Double>.stride
        var t = range.lowerBound
        let count = range.upperBound
        // 16 bars per step: four independent 4-lane accumulators keep the FP adders busy.
        while t + 16 <= count {
            var a = SIMD4<Double>(repeating: 0), b = a, c = a, d = a
            var k = t - n + 1
            for _ in 0..<n {
                let p = raw + k * stride
                a += p.loadUnaligned(as: SIMD4<Double>.self)
                b += (p + 4 * stride).loadUnaligned(as: SIMD4<Double>.self)
                c += (p + 8 * stride).loadUnaligned(as: SIMD4<Double>.self)
                d += (p + 12 * stride).loadUnaligned(as: SIMD4<Double>.self)
                k += 1
            }
            let o = UnsafeMutableRawPointer(dst + (t - range.lowerBound))
            o.storeBytes(of: a / dn, as: SIMD4<Double>.self)
            (o + 4 * stride).storeBytes(of: b / dn, as: SIMD4<Double>.self)
            (o + 8 * stride).storeBytes(of: c / dn, as: SIMD4<Double>.self)
            (o + 12 * stride).storeBytes(of: d / dn, as: SIMD4<Double>.self)
            t += 16
        }
        while t < count {
            var s = 0.0
            for k in (t - n + 1)...t { s += base[k] }
            dst[t - range.lowerBound] = s / dn
            t += 1
        }
    }
}
