import Foundation

/// What the overfitting guards need of one trial's per-bar returns `r_t = e_t / e_(t-1) - 1`
/// (the returns of the Sharpe ratio; a bar after zero equity has none): their count, mean,
/// sample variance, skewness and kurtosis (population moments, not excess), and, for CSCV,
/// count, sum and sum of squares in each of `blocks` equal consecutive blocks of bars.
public struct ReturnStats: Sendable, Equatable, Codable {
    public var count: Int
    public var mean: Double
    public var variance: Double
    public var skewness: Double
    public var kurtosis: Double
    /// `[count, sum, sum of squares]` per block.
    public var blocks: [[Double]]

    /// One pass over the curve (a sweep computes this for every trial): power sums per block,
    /// central moments from them (returns are centred near 0, so nothing cancels that matters;
    /// a variance below 1e-14 of the mean square is taken as 0).
    public static func of(equity e: [Double], blocks: Int = Overfitting.blocks) -> ReturnStats {
        let bars = e.count - 1
        var block = [[Double]](repeating: [0, 0, 0], count: blocks)
        var s3 = 0.0, s4 = 0.0
        if bars > 0 {
            e.withUnsafeBufferPointer { p in
                for b in 0..<blocks {
                    // Return i (bar i + 1) is in block floor(i * blocks / bars).
                    let lo = (b * bars + blocks - 1) / blocks, hi = ((b + 1) * bars + blocks - 1) / blocks
                    var c = 0.0, a = 0.0, q = 0.0, c3 = 0.0, c4 = 0.0
                    for i in lo..<max(lo, hi) where p[i] != 0 {
                        let r = p[i + 1] / p[i] - 1
                        let r2 = r * r
                        c += 1; a += r; q += r2; c3 += r2 * r; c4 += r2 * r2
                    }
                    block[b] = [c, a, q]
                    s3 += c3; s4 += c4
                }
            }
        }
        let n = block.reduce(0) { $0 + $1[0] }, s1 = block.reduce(0) { $0 + $1[1] }, s2 = block.reduce(0) { $0 + $1[2] }
        guard n > 0 else { return ReturnStats(count: 0, mean: 0, variance: 0, skewness: 0, kurtosis: 3, blocks: block) }
        let m = s1 / n
        var p2 = s2 / n - m * m
        if p2 <= 1e-14 * (s2 / n) { p2 = 0 }
        let p3 = s3 / n - 3 * m * s2 / n + 2 * m * m * m
        let p4 = s4 / n - 4 * m * s3 / n + 6 * m * m * s2 / n - 3 * m * m * m * m
        return ReturnStats(count: Int(n), mean: m, variance: n > 1 ? p2 * n / (n - 1) : 0,
                           skewness: p2 > 0 ? p3 / pow(p2, 1.5) : 0, kurtosis: p2 > 0 ? p4 / (p2 * p2) : 3, blocks: block)
    }

    /// Per-bar (not annualised) Sharpe ratio: mean over sample standard deviation; 0 when flat.
    public var sharpe: Double { variance > 0 ? mean / variance.squareRoot() : 0 }
}

/// Two guards against picking a lucky trial out of many.
///
/// **Deflated Sharpe ratio** (Bailey and López de Prado, 2014): the probability that the best
/// trial's true Sharpe ratio is above the best one expected from `N` trials with no skill,
/// `SR0 = sqrt(V) ((1 - g) Z(1 - 1/N) + g Z(1 - 1/(N e)))` (V the sample variance of the trials'
/// per-bar Sharpe ratios, g Euler's constant, Z the normal quantile):
/// `DSR = Phi((SR - SR0) sqrt(T - 1) / sqrt(1 - skew SR + (kurt - 1) / 4 SR^2))`, with SR, T,
/// skew and kurt (not excess) of the best trial's per-bar returns.
///
/// **Probability of backtest overfitting** (Bailey, Borwein, López de Prado and Zhu, 2017), by
/// combinatorially symmetric cross-validation: the bars are cut into S equal blocks; for every
/// choice of S/2 blocks as in-sample (C(16, 8) = 12,870 for S = 16), the trial with the best
/// in-sample Sharpe ratio (first on ties) is ranked out of sample among all N trials (rank =
/// 1 + trials strictly worse), `w = rank / (N + 1)`, `logit = ln(w / (1 - w))`; PBO is the share
/// of splits with `logit <= 0`: how often the in-sample winner is at best median out of sample.
public enum Overfitting {
    public static let blocks = 16
    /// CSCV costs C(S, S/2) x N x S additions: above this many trials it is not computed.
    public static let maximumPBOTrials = 2_000
    public static let eulerGamma = 0.577_215_664_901_532_9

    public static func normalCDF(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }

    /// The normal quantile by Wichura's AS241 (PPND16, relative error about 1e-16).
    public static func normalQuantile(_ p: Double) -> Double {
        guard p > 0, p < 1 else { return p <= 0 ? -.infinity : .infinity }
        let q = p - 0.5
        if Swift.abs(q) <= 0.425 {
            let r = 0.180625 - q * q
            let num = (((((((2509.0809287301226727 * r + 33430.575583588128105) * r + 67265.770927008700853) * r + 45921.953931549871457) * r
                + 13731.693765509461125) * r + 1971.5909503065514427) * r + 133.14166789178437745) * r + 3.387132872796366608)
            let den = (((((((5226.495278852545925 * r + 28729.085735721942674) * r + 39307.89580009271061) * r + 21213.794301586595867) * r
                + 5394.1960214247511077) * r + 687.1870074920579083) * r + 42.313330701600911252) * r + 1)
            return q * num / den
        }
        var r = q < 0 ? p : 1 - p
        r = (-log(r)).squareRoot()
        var value: Double
        if r <= 5 {
            r -= 1.6
            value = (((((((7.7454501427834140764e-4 * r + 0.0227238449892691845833) * r + 0.24178072517745061177) * r + 1.27045825245236838258) * r
                + 3.64784832476320460504) * r + 5.7694972214606914055) * r + 4.6303378461565452959) * r + 1.42343711074968357734)
                / (((((((1.05075007164441684324e-9 * r + 5.475938084995344946e-4) * r + 0.0151986665636164571966) * r + 0.14810397642748007459) * r
                + 0.68976733498510000455) * r + 1.6763848301838038494) * r + 2.05319162663775882187) * r + 1)
        } else {
            r -= 5
            value = (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r + 0.0012426609473880784386) * r + 0.026532189526576123093) * r
                + 0.29656057182850489123) * r + 1.7848265399172913358) * r + 5.4637849111641143699) * r + 6.6579046435011037772)
                / (((((((2.04426310338993978564e-15 * r + 1.4215117583164458887e-7) * r + 1.8463183175100546818e-5) * r + 7.868691311456132591e-4) * r
                + 0.0148753612908506148525) * r + 0.13692988092273580531) * r + 0.59983220655588793769) * r + 1)
        }
        return q < 0 ? -value : value
    }

    /// The best per-bar Sharpe ratio expected from `trials` trials with no skill.
    public static func expectedMaxSharpe(trials n: Int, sharpeVariance v: Double) -> Double {
        guard n > 1, v > 0 else { return 0 }
        let N = Double(n)
        return v.squareRoot() * ((1 - eulerGamma) * normalQuantile(1 - 1 / N) + eulerGamma * normalQuantile(1 - 1 / (N * M_E)))
    }

    /// The deflated Sharpe ratio of `best` among trials whose per-bar Sharpe ratios are `sharpes`.
    public static func deflatedSharpe(best: ReturnStats, sharpes: [Double]) -> (dsr: Double, expectedMax: Double)? {
        guard sharpes.count > 1, best.count > 1 else { return nil }
        let mean = sharpes.reduce(0, +) / Double(sharpes.count)
        let v = sharpes.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(sharpes.count - 1)
        let sr0 = expectedMaxSharpe(trials: sharpes.count, sharpeVariance: v)
        let sr = best.sharpe
        let denominator = 1 - best.skewness * sr + (best.kurtosis - 1) / 4 * sr * sr
        guard denominator > 0 else { return nil }
        return (normalCDF((sr - sr0) * Double(best.count - 1).squareRoot() / denominator.squareRoot()), sr0)
    }

    /// PBO by CSCV over the trials' block statistics (all with the same blocks).
    public static func pbo(_ trials: [ReturnStats]) -> (pbo: Double, splits: Int)? {
        let n = trials.count
        guard n > 1, n <= maximumPBOTrials, let s = trials.first?.blocks.count, s >= 2, s % 2 == 0, s <= 20,
              trials.allSatisfy({ $0.blocks.count == s }) else { return nil }
        // Flat [trial * s + block] sums; out-of-sample sums are the totals minus the in-sample ones.
        var count = [Double](), sum = [Double](), sq = [Double]()
        for t in trials { for b in t.blocks { count.append(b[0]); sum.append(b[1]); sq.append(b[2]) } }
        let total = (0..<n).map { j in (0..<s).reduce((0.0, 0.0, 0.0)) { ($0.0 + count[j * s + $1], $0.1 + sum[j * s + $1], $0.2 + sq[j * s + $1]) } }
        func sharpe(_ c: Double, _ a: Double, _ q: Double) -> Double {
            guard c > 1 else { return 0 }
            let variance = (q - a * a / c) / (c - 1)
            return variance > 0 ? (a / c) / variance.squareRoot() : 0
        }
        var splits = 0, overfit = 0
        var inSample = [Int](), oos = [Double](repeating: 0, count: n)
        for mask in 0..<(1 << s) where mask.nonzeroBitCount == s / 2 {
            inSample.removeAll(keepingCapacity: true)
            for b in 0..<s where mask & (1 << b) != 0 { inSample.append(b) }
            var bestIS = -Double.infinity, chosen = 0
            for j in 0..<n {
                var c = 0.0, a = 0.0, q = 0.0
                for b in inSample { c += count[j * s + b]; a += sum[j * s + b]; q += sq[j * s + b] }
                let v = sharpe(c, a, q)
                if v > bestIS { bestIS = v; chosen = j }
                oos[j] = sharpe(total[j].0 - c, total[j].1 - a, total[j].2 - q)
            }
            let rank = 1 + oos.reduce(0) { $0 + ($1 < oos[chosen] ? 1 : 0) }
            let w = Double(rank) / Double(n + 1)
            if log(w / (1 - w)) <= 0 { overfit += 1 }
            splits += 1
        }
        return (Double(overfit) / Double(splits), splits)
    }
}
