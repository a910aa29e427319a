extension TA {
    /// TA-Lib BBANDS with SMA: population standard deviation from running sums of x and x².
    public static func bollinger(_ x: [Double], period n: Int, multiplier k: Double)
        -> (upper: [Double], middle: [Double], lower: [Double]) {
        let middle = sma(x, period: n)
        var upper = [Double](repeating: .nan, count: x.count), lower = upper
        guard n >= 1, x.count >= n else { return (upper, middle, lower) }
        var sum = 0.0, sumSq = 0.0
        for i in 0..<(n - 1) { sum += x[i]; sumSq += x[i] * x[i] }
        let dn = Double(n)
        for t in (n - 1)..<x.count {
            sum += x[t]
            sumSq += x[t] * x[t]
            let mean = sum / dn
            let variance = sumSq / dn - mean * mean
            let sd = variance > 0 ? variance.squareRoot() : 0
            upper[t] = middle[t] + k * sd
            lower[t] = middle[t] - k * sd
            let old = x[t - n + 1]
            sum -= old
            sumSq -= old * old
        }
        return (upper, middle, lower)
    }

    /// TA-Lib ATR: Wilder average of the true range, first value at index `n`.
    public static func atr(h: [Double], l: [Double], c: [Double], period n: Int) -> [Double] {
        wilder(trueRange(h, l, c), period: n)
    }

    /// Donchian channels: highest high and lowest low of the last `n` bars, and their midpoint.
    public static func donchian(h: [Double], l: [Double], period n: Int) -> (upper: [Double], middle: [Double], lower: [Double]) {
        let upper = rollingExtreme(h, period: n, isMax: true)
        let lower = rollingExtreme(l, period: n, isMax: false)
        return (upper, zip(upper, lower) { ($0 + $1) / 2 }, lower)
    }

    /// Keltner channels: EMA(close, n) ± multiplier × ATR(atrPeriod), TA-Lib EMA and ATR.
    public static func keltner(h: [Double], l: [Double], c: [Double], period n: Int, atrPeriod: Int, multiplier k: Double)
        -> (upper: [Double], middle: [Double], lower: [Double]) {
        let middle = ema(c, period: n)
        let range = atr(h: h, l: l, c: c, period: atrPeriod)
        return (zip(middle, range) { $0 + k * $1 }, zip(middle, range) { m, _ in m }, zip(middle, range) { $0 - k * $1 })
    }
}
