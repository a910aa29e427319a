extension TA {
    /// TA-Lib MACD. Both EMAs are seeded at the slow EMA's first index (the fast one with the
    /// mean of the `fast` closes ending there); the signal is an EMA of the line seeded at
    /// `slow-1 + signal-1`. All three outputs start there.
    public static func macd(_ c: [Double], fast: Int, slow: Int, signal: Int)
        -> (line: [Double], signal: [Double], histogram: [Double]) {
        let (f, s) = fast <= slow ? (fast, slow) : (slow, fast)
        let nan = [Double](repeating: .nan, count: c.count)
        let first = s - 1 + signal - 1
        guard f >= 1, signal >= 1, c.count > first else { return (nan, nan, nan) }
        let slowEMA = ema(c, period: s)
        let fastEMA = ema(c, period: f, seedFrom: s - f)
        var line = nan
        for t in (s - 1)..<c.count { line[t] = fastEMA[t] - slowEMA[t] }
        let sig = ema(Array(line[(s - 1)...]), period: signal)
        var sigOut = nan, hist = nan
        for t in first..<c.count {
            sigOut[t] = sig[t - (s - 1)]
            hist[t] = line[t] - sigOut[t]
        }
        for t in 0..<first { line[t] = .nan }
        return (line, sigOut, hist)
    }

    /// TA-Lib ADX: Wilder sums seeded with the raw sum of the first n-1 values, ADX seeded
    /// with the mean of the first n DX values; first output at `2n-1`.
    public static func adx(h: [Double], l: [Double], c: [Double], period n: Int) -> [Double] {
        var out = [Double](repeating: .nan, count: c.count)
        guard n >= 2, c.count >= 2 * n else { return out }
        let dn = Double(n)
        var pDM = 0.0, mDM = 0.0, tr = 0.0
        @inline(__always) func moves(_ t: Int) -> (Double, Double, Double) {
            let diffP = h[t] - h[t - 1], diffM = l[t - 1] - l[t]
            var p = 0.0, m = 0.0
            if diffM > 0 && diffP < diffM { m = diffM } else if diffP > 0 && diffP > diffM { p = diffP }
            let pc = c[t - 1]
            var r = h[t] - l[t]
            let a = Swift.abs(h[t] - pc), b = Swift.abs(l[t] - pc)
            if a > r { r = a }
            if b > r { r = b }
            return (p, m, r)
        }
        @inline(__always) func isZero(_ v: Double) -> Bool { v > -1e-14 && v < 1e-14 }
        for t in 1..<n {
            let (p, m, r) = moves(t)
            pDM += p; mDM += m; tr += r
        }
        var sumDX = 0.0
        var adx = 0.0
        for t in n..<c.count {
            let (p, m, r) = moves(t)
            mDM -= mDM / dn
            pDM -= pDM / dn
            mDM += m
            pDM += p
            tr = tr - tr / dn + r
            var dx: Double? = nil
            if !isZero(tr) {
                let minusDI = 100.0 * (mDM / tr), plusDI = 100.0 * (pDM / tr)
                let s = minusDI + plusDI
                if !isZero(s) { dx = 100.0 * (Swift.abs(minusDI - plusDI) / s) }
            }
            if t < 2 * n - 1 {
                sumDX += dx ?? 0
            } else if t == 2 * n - 1 {
                sumDX += dx ?? 0
                adx = sumDX / dn
                out[t] = adx
            } else {
                if let dx { adx = (adx * (dn - 1) + dx) / dn }
                out[t] = adx
            }
        }
        return out
    }

    /// Parabolic SAR with TA-Lib's SAR algorithm (initial direction from the first bars'
    /// -DM, SAR clamped to the last two bars' range), generalised to a separate initial
    /// and step acceleration. First output at index 1.
    public static func parabolicSAR(h: [Double], l: [Double], initial: Double, step: Double, maximum: Double) -> [Double] {
        var out = [Double](repeating: .nan, count: h.count)
        guard h.count >= 2 else { return out }
        let start = Swift.min(initial, maximum)
        var af = start
        let diffM = l[0] - l[1], diffP = h[1] - h[0]
        var isLong = !(diffM > 0 && diffP < diffM)
        var ep: Double, sar: Double
        if isLong { ep = h[1]; sar = l[0] } else { ep = l[1]; sar = h[0] }
        var newLow = l[1], newHigh = h[1]
        for t in 1..<h.count {
            let prevLow = newLow, prevHigh = newHigh
            newLow = l[t]
            newHigh = h[t]
            if isLong {
                if newLow <= sar {
                    isLong = false
                    sar = Swift.max(ep, prevHigh, newHigh)
                    out[t] = sar
                    af = start
                    ep = newLow
                    sar = sar + af * (ep - sar)
                    sar = Swift.max(sar, prevHigh, newHigh)
                } else {
                    out[t] = sar
                    if newHigh > ep { ep = newHigh; af = Swift.min(af + step, maximum) }
                    sar = sar + af * (ep - sar)
                    sar = Swift.min(sar, prevLow, newLow)
                }
            } else {
                if newHigh >= sar {
                    isLong = true
                    sar = Swift.min(ep, prevLow, newLow)
                    out[t] = sar
                    af = start
                    ep = newHigh
                    sar = sar + af * (ep - sar)
                    sar = Swift.min(sar, prevLow, newLow)
                } else {
                    out[t] = sar
                    if newLow < ep { ep = newLow; af = Swift.min(af + step, maximum) }
                    sar = sar + af * (ep - sar)
                    sar = Swift.max(sar, prevHigh, newHigh)
                }
            }
        }
        return out
    }
}
