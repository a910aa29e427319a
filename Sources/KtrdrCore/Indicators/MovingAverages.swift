/// Indicator kernels over whole columns: O(n), causal, NaN during warm-up, TA-Lib's
/// conventions and operation order (INDICATORS.md). Each returns arrays of `x.count`.
public enum TA {
    /// TA-Lib SMA: running total (add the new value, then divide, then drop the oldest).
    public static func sma(_ x: [Double], period n: Int) -> [Double] {
        var out = [Double](repeating: .nan, count: x.count)
        guard n >= 1, x.count >= n else { return out }
        x.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { out in
                var total = 0.0
                for i in 0..<(n - 1) { total += x[i] }
                let dn = Double(n)
                for t in (n - 1)..<x.count {
                    total += x[t]
                    out[t] = total / dn
                    total -= x[t - n + 1]
                }
            }
        }
        return out
    }

    /// TA-Lib EMA seeded at index `start + n - 1` with the mean of `x[start..<start+n]`,
    /// `k = 2/(n+1)`. `start` lets MACD seed late, as TA-Lib does.
    public static func ema(_ x: [Double], period n: Int, seedFrom start: Int = 0) -> [Double] {
        var out = [Double](repeating: .nan, count: x.count)
        guard n >= 1, start >= 0, x.count >= start + n else { return out }
        let k = 2.0 / Double(n + 1)
        var prev = 0.0
        for i in start..<(start + n) { prev += x[i] }
        prev /= Double(n)
        out[start + n - 1] = prev
        for t in (start + n)..<x.count {
            prev = (x[t] - prev) * k + prev
            out[t] = prev
        }
        return out
    }

    /// Wilder-smoothed average of `x[1...]` as TA-Lib's RSI/ATR use: seed at index `n` with
    /// the mean of `x[1...n]`, then `(avg*(n-1) + x)/n`. `x[0]` is ignored.
    static func wilder(_ x: [Double], period n: Int) -> [Double] {
        var out = [Double](repeating: .nan, count: x.count)
        guard n >= 1, x.count > n else { return out }
        var avg = 0.0
        for i in 1...n { avg += x[i] }
        avg /= Double(n)
        out[n] = avg
        let dn = Double(n), dn1 = Double(n - 1)
        for t in (n + 1)..<x.count {
            avg = (avg * dn1 + x[t]) / dn
            out[t] = avg
        }
        return out
    }

    /// Rolling maximum (`isMax`) or minimum over `n` bars, O(n) with a monotonic deque.
    static func rollingExtreme(_ x: [Double], period n: Int, isMax: Bool) -> [Double] {
        var out = [Double](repeating: .nan, count: x.count)
        guard n >= 1, x.count >= n else { return out }
        var deque = [Int](repeating: 0, count: x.count)
        var head = 0, tail = 0
        for t in 0..<x.count {
            while tail > head, isMax ? x[deque[tail - 1]] <= x[t] : x[deque[tail - 1]] >= x[t] { tail -= 1 }
            deque[tail] = t
            tail += 1
            if deque[head] <= t - n { head += 1 }
            if t >= n - 1 { out[t] = x[deque[head]] }
        }
        return out
    }

    /// Element-wise helper: `f(a[i], b[i])`, keeping NaN where either input is NaN.
    static func zip(_ a: [Double], _ b: [Double], _ f: (Double, Double) -> Double) -> [Double] {
        var out = [Double](repeating: .nan, count: a.count)
        for i in 0..<a.count where !a[i].isNaN && !b[i].isNaN { out[i] = f(a[i], b[i]) }
        return out
    }

    /// Typical price `(h+l+c)/3`.
    static func typicalPrice(_ h: [Double], _ l: [Double], _ c: [Double]) -> [Double] {
        var out = [Double](repeating: 0, count: c.count)
        for i in 0..<c.count { out[i] = (h[i] + l[i] + c[i]) / 3.0 }
        return out
    }

    /// True range from bar 1 on (bar 0 has none and is NaN).
    static func trueRange(_ h: [Double], _ l: [Double], _ c: [Double]) -> [Double] {
        var out = [Double](repeating: .nan, count: c.count)
        guard c.count > 1 else { return out }
        for t in 1..<c.count {
            let pc = c[t - 1]
            var r = h[t] - l[t]
            let a = Swift.abs(h[t] - pc), b = Swift.abs(l[t] - pc)
            if a > r { r = a }
            if b > r { r = b }
            out[t] = r
        }
        return out
    }
}
