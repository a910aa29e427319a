extension TA {
    /// TA-Lib RSI: Wilder averages of gains and losses, first value at index `n`.
    public static func rsi(_ c: [Double], period n: Int) -> [Double] {
        var out = [Double](repeating: .nan, count: c.count)
        guard n >= 1, c.count > n else { return out }
        var gain = 0.0, loss = 0.0
        for t in 1...n {
            let d = c[t] - c[t - 1]
            if d < 0 { loss -= d } else { gain += d }
        }
        gain /= Double(n)
        loss /= Double(n)
        func value() -> Double { let s = gain + loss; return s != 0 ? 100.0 * (gain / s) : 0 }
        out[n] = value()
        let dn = Double(n), dn1 = Double(n - 1)
        for t in (n + 1)..<c.count {
            let d = c[t] - c[t - 1]
            gain *= dn1
            loss *= dn1
            if d < 0 { loss -= d } else { gain += d }
            gain /= dn
            loss /= dn
            out[t] = value()
        }
        return out
    }

    /// TA-Lib STOCH(k, smooth_k, SMA, d, SMA): both outputs start at `k-1 + smooth-1 + d-1`.
    public static func stochastic(h: [Double], l: [Double], c: [Double], kPeriod: Int, smoothK: Int, dPeriod: Int)
        -> (k: [Double], d: [Double]) {
        let hh = rollingExtreme(h, period: kPeriod, isMax: true)
        let ll = rollingExtreme(l, period: kPeriod, isMax: false)
        var fastK = [Double](repeating: .nan, count: c.count)
        for t in 0..<c.count where !hh[t].isNaN {
            let diff = (hh[t] - ll[t]) / 100.0
            fastK[t] = diff != 0 ? (c[t] - ll[t]) / diff : 0
        }
        var slowK = smaSkippingNaN(fastK, period: smoothK)
        let slowD = smaSkippingNaN(slowK, period: dPeriod)
        for t in 0..<c.count where slowD[t].isNaN { slowK[t] = .nan }
        return (slowK, slowD)
    }

    /// SMA over a series with a NaN warm-up prefix: starts where the input becomes defined.
    static func smaSkippingNaN(_ x: [Double], period n: Int) -> [Double] {
        guard let first = x.firstIndex(where: { !$0.isNaN }) else { return x }
        let tail = sma(Array(x[first...]), period: n)
        return [Double](repeating: .nan, count: first) + tail
    }

    /// TA-Lib WILLR, first value at `n-1`.
    public static func williamsR(h: [Double], l: [Double], c: [Double], period n: Int) -> [Double] {
        let hh = rollingExtreme(h, period: n, isMax: true)
        let ll = rollingExtreme(l, period: n, isMax: false)
        var out = [Double](repeating: .nan, count: c.count)
        for t in 0..<c.count where !hh[t].isNaN {
            let diff = (hh[t] - ll[t]) / -100.0
            out[t] = diff != 0 ? (hh[t] - c[t]) / diff : 0
        }
        return out
    }

    /// TA-Lib CCI: mean deviation of every point in the window from the current window mean.
    /// O(n*period) for the deviation, which has no running form; period is small.
    public static func cci(h: [Double], l: [Double], c: [Double], period n: Int) -> [Double] {
        let tp = typicalPrice(h, l, c)
        var out = [Double](repeating: .nan, count: c.count)
        guard n >= 1, c.count >= n else { return out }
        let mean = sma(tp, period: n)
        for t in (n - 1)..<c.count {
            let m = mean[t]
            var dev = 0.0
            for k in (t - n + 1)...t { dev += Swift.abs(tp[k] - m) }
            dev /= Double(n)
            out[t] = dev != 0 ? (tp[t] - m) / (0.015 * dev) : 0
        }
        return out
    }

    /// TA-Lib ROC: `(c/c[t-n] - 1) * 100`, 0 when the old price is 0.
    public static func roc(_ c: [Double], period n: Int) -> [Double] {
        var out = [Double](repeating: .nan, count: c.count)
        guard n >= 1, c.count > n else { return out }
        for t in n..<c.count { out[t] = c[t - n] != 0 ? (c[t] / c[t - n] - 1.0) * 100.0 : 0 }
        return out
    }

    /// TA-Lib MOM: `c - c[t-n]`.
    public static func momentum(_ c: [Double], period n: Int) -> [Double] {
        var out = [Double](repeating: .nan, count: c.count)
        guard n >= 1, c.count > n else { return out }
        for t in n..<c.count { out[t] = c[t] - c[t - n] }
        return out
    }

    /// TA-Lib MFI: money flow split by the direction of the typical price; 0 when the
    /// window's total flow is below 1 (TA-Lib's guard, which also covers zero volume).
    public static func mfi(h: [Double], l: [Double], c: [Double], v: [Double], period n: Int) -> [Double] {
        var out = [Double](repeating: .nan, count: c.count)
        guard n >= 1, c.count > n else { return out }
        let tp = typicalPrice(h, l, c)
        var pos = [Double](repeating: 0, count: c.count), neg = pos
        for t in 1..<c.count {
            // TA-Lib treats a typical-price change within 1e-14 relative as no change
            // (measured against its 0.6 C library; it matters on EURUSD 2017-05-24 04:00).
            let change = tp[t] - tp[t - 1]
            if Swift.abs(change) < 1e-14 * Swift.abs(tp[t - 1]) { continue }
            let flow = tp[t] * v[t]
            if change > 0 { pos[t] = flow } else { neg[t] = flow }
        }
        var sp = 0.0, sn = 0.0
        for t in 1...n { sp += pos[t]; sn += neg[t] }
        for t in n..<c.count {
            if t > n { sp -= pos[t - n]; sn -= neg[t - n]; sp += pos[t]; sn += neg[t] }
            let total = sp + sn
            out[t] = total < 1.0 ? 0 : 100.0 * (sp / total)
        }
        return out
    }
}
