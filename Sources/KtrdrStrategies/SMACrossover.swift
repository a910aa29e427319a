import KtrdrCore

/// `sma_crossover` (SMA_CROSSOVER.md): BUY when the fast SMA crosses strictly above the slow
/// one (previous bar may be equal), SELL on the mirror cross. Confidence is always 1.
///
/// The contract defines each SMA as the plain ascending window sum divided by n, and the
/// crossover depends only on how `fast` compares with `slow` on each bar. We get that relation
/// from O(1) running sums, re-seeded with the canonical sum every `reseed` bars, and fall back
/// to the canonical sums whenever the running difference is within a proven error bound of a
/// tie. So every decision is bit-identical to the canonical form (§7, exact ties), at a cost of
/// a few flops per bar instead of `fast + slow` additions.
public struct SMACrossover: SignalStrategy {
    public let fastPeriod: Int
    public let slowPeriod: Int

    public static let pluginName = "sma_crossover"
    public static let defaults: [String: Double] = ["fast_period": 10, "slow_period": 30]

    public init(fastPeriod: Int = 10, slowPeriod: Int = 30) {
        self.fastPeriod = fastPeriod
        self.slowPeriod = slowPeriod
    }

    /// From a strategy file's `params`, checked: whole periods >= 1, fast below slow.
    public init(config: StrategyConfig, file: String) throws(KtrdrError) {
        let p = try config.parameters(defaults: Self.defaults, file: file)
        var issues = [ValidationIssue]()
        let fast = StrategyCatalog.count(p, "fast_period", &issues), slow = StrategyCatalog.count(p, "slow_period", &issues)
        if issues.isEmpty && fast >= slow {
            issues.append(ValidationIssue(path: "params", message: "fast_period (\(fast)) must be below slow_period (\(slow))"))
        }
        guard issues.isEmpty else { throw .strategyInvalid(file: file, issues: issues) }
        self.init(fastPeriod: fast, slowPeriod: slow)
    }

    public var name: String { Self.pluginName }
    public var warmupBars: Int { max(fastPeriod, slowPeriod) }
    public var providesConfidence: Bool { false }

    static let reseed = 256

    public func computeSignals(bars: BarColumns, signal: UnsafeMutableBufferPointer<Int8>,
                               confidence: UnsafeMutableBufferPointer<Double>) throws(KtrdrError) {
        guard let x = bars.close.baseAddress, let out = signal.baseAddress, bars.count > 0 else { return }
        Self.crossovers(x, count: bars.count, fast: fastPeriod, slow: slowPeriod, signal: out)
    }

    /// Relation of fast to slow SMA from the canonical sums: -1, 0, +1, or 2 when undefined.
    @inline(never)
    static func canonicalRelation(_ x: UnsafePointer<Double>, at t: Int, fast nf: Int, slow ns: Int) -> Int8 {
        var sf = 0.0, ss = 0.0
        for k in (t - nf + 1)...t { sf += x[k] }
        for k in (t - ns + 1)...t { ss += x[k] }
        let f = sf / Double(nf), s = ss / Double(ns)
        return f > s ? 1 : (f < s ? -1 : (f == s ? 0 : 2))
    }

    /// Through shared series (a sweep's trials): TA-Lib's SMA columns, computed once per
    /// period for every trial, decide each bar unless the difference is within their error
    /// bound of a tie; such bars are decided canonically. Same decisions as `computeSignals`
    /// without them, bit for bit.
    public func computeSignals(bars: BarColumns, indicators: any IndicatorSource, signal: UnsafeMutableBufferPointer<Int8>,
                               confidence: UnsafeMutableBufferPointer<Double>) throws(KtrdrError) {
        guard let x = bars.close.baseAddress, let out = signal.baseAddress, bars.count > 0 else { return }
        let fast = try indicators.series(IndicatorSpec(kind: .sma, featureId: "SMA", parameters: ["period": Double(fastPeriod)]), output: 0)
        let slow = try indicators.series(IndicatorSpec(kind: .sma, featureId: "SMA", parameters: ["period": Double(slowPeriod)]), output: 0)
        guard fast.count == bars.count, slow.count == bars.count, let f = fast.baseAddress, let s = slow.baseAddress else {
            throw .invalidRequest("shared SMA series of \(fast.count) and \(slow.count) values for \(bars.count) bars")
        }
        Self.crossovers(x, count: bars.count, fastMeans: f, slowMeans: s, fast: fastPeriod, slow: slowPeriod, signal: out)
    }

    /// Error bound of a running mean of period `p` against the canonical one, for inputs
    /// bounded by `maxAbs`, after at most `steps` running updates: canonical sum error
    /// <= p^2 eps M, running drift <= steps (p+2) eps M, plus the final rounding (2 eps);
    /// doubled for margin.
    static func bound(_ p: Int, steps: Int, maxAbs: Double) -> Double {
        let eps = Double.ulpOfOne
        return 2 * (Double(p) * Double(p) + Double(steps) * Double(p + 2) + 2 * Double(p)) * eps * maxAbs / Double(p) + 4 * eps * maxAbs
    }

    static func maxAbs(_ x: UnsafePointer<Double>, count n: Int) -> Double {
        var m = 0.0
        for t in 0..<n { m = max(m, Swift.abs(x[t])) }
        return m
    }

    /// Every bar from `longest` decided from the canonical sums (non-finite input).
    static func canonicalCrossovers(_ x: UnsafePointer<Double>, count n: Int, fast nf: Int, slow ns: Int, signal: UnsafeMutablePointer<Int8>) {
        let longest = max(nf, ns)
        var prev = canonicalRelation(x, at: longest - 1, fast: nf, slow: ns)
        for t in longest..<n {
            let rel = canonicalRelation(x, at: t, fast: nf, slow: ns)
            signal[t] = decide(prev, rel)
            prev = rel
        }
    }

    static func crossovers(_ x: UnsafePointer<Double>, count n: Int, fast nf: Int, slow ns: Int,
                           signal: UnsafeMutablePointer<Int8>) {
        let longest = max(nf, ns)
        for t in 0..<min(n, longest) { signal[t] = SignalCode.hold }
        guard n >= longest else { return }
        // |fast - slow| above the sum of both bounds decides the relation; anything closer is
        // decided canonically.
        let m = maxAbs(x, count: n)
        let delta = bound(nf, steps: reseed, maxAbs: m) + bound(ns, steps: reseed, maxAbs: m)
        let invF = 1 / Double(nf), invS = 1 / Double(ns)
        guard delta.isFinite else { return canonicalCrossovers(x, count: n, fast: nf, slow: ns, signal: signal) }
        let table = decisionTable()
        var prev = canonicalRelation(x, at: longest - 1, fast: nf, slow: ns)
        var t = longest
        while t < n {
            // Re-seed both running sums with the canonical ascending sums ending at t-1.
            var sf = 0.0, ss = 0.0
            for k in (t - nf)..<t { sf += x[k] }
            for k in (t - ns)..<t { ss += x[k] }
            let end = min(n, t + reseed)
            while t < end {
                sf += x[t] - x[t - nf]
                ss += x[t] - x[t - ns]
                let d = sf * invF - ss * invS
                // Branch-free in the common case; only near-ties take the canonical path.
                var rel = Int8(truncatingIfNeeded: (d > delta ? 1 : 0) - (d < -delta ? 1 : 0))
                if rel == 0 { rel = canonicalRelation(x, at: t, fast: nf, slow: ns) }
                signal[t] = lookup(table, prev, rel)
                prev = rel
                t += 1
            }
        }
    }

    /// The same decisions from TA-Lib running means `f` and `s` (one running total each from
    /// the first bar, so at most `n` updates).
    static func crossovers(_ x: UnsafePointer<Double>, count n: Int, fastMeans f: UnsafePointer<Double>, slowMeans s: UnsafePointer<Double>,
                           fast nf: Int, slow ns: Int, signal: UnsafeMutablePointer<Int8>) {
        let longest = max(nf, ns)
        for t in 0..<min(n, longest) { signal[t] = SignalCode.hold }
        guard n >= longest else { return }
        let m = maxAbs(x, count: n)
        let delta = bound(nf, steps: n, maxAbs: m) + bound(ns, steps: n, maxAbs: m)
        guard delta.isFinite else { return canonicalCrossovers(x, count: n, fast: nf, slow: ns, signal: signal) }
        // Three passes the compiler can vectorise: the relation of every bar from the shared
        // means, the rare near-ties decided canonically, then the crossings.
        let rel = UnsafeMutablePointer<Int8>.allocate(capacity: n)
        defer { rel.deallocate() }
        for t in longest..<n {
            let d = f[t] - s[t]
            rel[t] = Int8(truncatingIfNeeded: (d > delta ? 1 : 0) &- (d < -delta ? 1 : 0))
        }
        for t in longest..<n where rel[t] == 0 { rel[t] = canonicalRelation(x, at: t, fast: nf, slow: ns) }
        rel[longest - 1] = canonicalRelation(x, at: longest - 1, fast: nf, slow: ns)
        let table = decisionTable()
        for t in longest..<n { signal[t] = lookup(table, rel[t - 1], rel[t]) }
    }

    /// crossUp: previous `fast <= slow`, now `fast > slow`; crossDown mirrored. Undefined (2) never crosses.
    static func decide(_ prev: Int8, _ rel: Int8) -> Int8 {
        if rel == 1 && (prev == -1 || prev == 0) { return SignalCode.buy }
        if rel == -1 && (prev == 1 || prev == 0) { return SignalCode.sell }
        return SignalCode.hold
    }

    /// `decide` for every (prev, rel) in {-1, 0, 1, 2}², packed 4 bits per entry as signal+1,
    /// indexed by `(prev+1)*4 + (rel+1)`: a branch-free lookup for the hot loop.
    static func decisionTable() -> UInt64 {
        var table: UInt64 = 0
        for prev in Int8(-1)...2 {
            for rel in Int8(-1)...2 {
                let index = UInt64((Int(prev) + 1) * 4 + Int(rel) + 1)
                table |= UInt64(Int(decide(prev, rel)) + 1) << (4 * index)
            }
        }
        return table
    }

    @inline(__always)
    static func lookup(_ table: UInt64, _ prev: Int8, _ rel: Int8) -> Int8 {
        // prev and rel are in -1...2, so the index is 0...15 and the shift below 64: masking
        // arithmetic, no overflow or over-shift checks in the hot loop.
        let index = UInt64(truncatingIfNeeded: (Int(prev) &+ 1) &* 4 &+ Int(rel) &+ 1)
        return Int8(truncatingIfNeeded: (table &>> (4 &* index)) & 0xF) &- 1
    }
}
