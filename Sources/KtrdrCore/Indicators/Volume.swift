extension TA {
    /// TA-Lib OBV: seeded with `volume[0]`, then ± volume by the sign of the close change.
    public static func obv(c: [Double], v: [Double]) -> [Double] {
        var out = [Double](repeating: .nan, count: c.count)
        guard !c.isEmpty else { return out }
        var acc = v[0]
        out[0] = acc
        for t in 1..<c.count {
            if c[t] > c[t - 1] { acc += v[t] } else if c[t] < c[t - 1] { acc -= v[t] }
            out[t] = acc
        }
        return out
    }

    /// Rolling VWAP: Σ(typical price × volume) / Σ volume over the last `n` bars.
    /// NaN where the window has no volume (a price with no traded volume is undefined).
    public static func vwap(h: [Double], l: [Double], c: [Double], v: [Double], period n: Int) -> [Double] {
        var out = [Double](repeating: .nan, count: c.count)
        guard n >= 1, c.count >= n else { return out }
        let tp = typicalPrice(h, l, c)
        var pv = 0.0, vol = 0.0
        for t in 0..<c.count {
            pv += tp[t] * v[t]
            vol += v[t]
            if t >= n {
                pv -= tp[t - n] * v[t - n]
                vol -= v[t - n]
            }
            // Integer-valued volumes keep `vol` exact; guard tiny residue from fractional ones.
            if t >= n - 1 { out[t] = vol > 0 ? pv / vol : .nan }
        }
        return out
    }
}
