/// Summary metrics of a backtest (DOMAIN.md §7). Units: money for `total_return`,
/// `max_drawdown`, `avg_*`, `largest_*`, `expectancy`; percent for every `*_pct` and for
/// `annualized_return` and `volatility`; fractions (0…1) for `win_rate`; bars for durations.
/// `nil` (JSON `null`) marks an undefined value: a ratio with a zero denominator, or an
/// average over no trades. JSON never carries NaN or Infinity.
public struct Metrics: Sendable, Equatable, Codable {
    public var initialCapital: Double
    public var finalEquity: Double
    public var totalReturn: Double
    public var totalReturnPct: Double
    /// CAGR over the requested span, percent; nil for a zero-length span.
    public var annualizedReturn: Double?
    /// Annualised standard deviation of per-bar returns, percent.
    public var volatility: Double?
    public var sharpeRatio: Double?
    public var sortinoRatio: Double?
    public var maxDrawdownPct: Double
    /// Money lost from the peak at the deepest (percent) drawdown.
    public var maxDrawdown: Double
    /// Longest stretch of bars spent below a previous equity peak.
    public var maxDrawdownDuration: Int
    public var calmarRatio: Double?
    public var totalTrades: Int
    public var winningTrades: Int
    public var losingTrades: Int
    public var winRate: Double?
    public var profitFactor: Double?
    public var avgWin: Double?
    public var avgLoss: Double?
    public var largestWin: Double?
    public var largestLoss: Double?
    public var expectancy: Double?
    /// Van Tharp's system quality number: sqrt(N) * mean(net pnl) / stdev(net pnl).
    public var sqn: Double?
    public var exposurePct: Double
    public var buyAndHoldReturnPct: Double
    public var avgBarsHeld: Double?
    /// Bars per year used to annualise (from the timeframe).
    public var barsPerYear: Double
}

extension Metrics {
    /// Periods per year measured from the bars (SMA_CROSSOVER.md §6: `P = (N - 1) / years`):
    /// about 252 for equity days, 365 for crypto days, 6,200 for forex hours, whatever the label
    /// says; the timeframe's nominal count when the bars span no time.
    public static func barsPerYear(_ ts: ArraySlice<Int64>, nominal: Double) -> Double {
        guard ts.count >= 2, let first = ts.first, let last = ts.last, last > first else { return nominal }
        return Double(ts.count - 1) / (Double(last - first) / (365.25 * 86_400))
    }

    /// A note when the bars' median spacing (sampled, at most 1,001 gaps) is not within half to
    /// twice the timeframe's: the label is then wrong, and the statistics follow the data.
    public static func timeframeWarning(_ ts: ArraySlice<Int64>, timeframe: Timeframe, barsPerYear: Double) -> String? {
        guard ts.count >= 3 else { return nil }
        let gaps = ts.count - 1, step = max(1, gaps / 1_000)
        var sample = stride(from: 0, to: gaps, by: step).map { ts[ts.startIndex + $0 + 1] - ts[ts.startIndex + $0] }
        sample.sort()
        let median = Double(sample[sample.count / 2]), nominal = Double(timeframe.seconds)
        guard median < nominal / 2 || median > nominal * 2 else { return nil }
        let shown = median >= 86_400 ? "\(Self.rounded(median / 86_400)) days" : median >= 3_600 ? "\(Self.rounded(median / 3_600)) hours" : "\(Self.rounded(median / 60)) minutes"
        return "timeframe \(timeframe.rawValue), but the bars are a median \(shown) apart: statistics are annualised by the data "
            + "(\(Self.rounded(barsPerYear)) bars a year), not by the label"
    }

    private static func rounded(_ v: Double) -> String { v == v.rounded() ? "\(Int(v))" : String(Double(Int(v * 10)) / 10) }

    /// Computes every metric from the engine output.
    /// - Parameters:
    ///   - spanSeconds: the requested period (for CAGR); the traded bars' span when no dates were given.
    ///   - firstOpen, lastClose: prices for buy-and-hold over the same bars.
    public static func compute(output: EngineOutput, initialCapital: Double, barsPerYear: Double,
                               spanSeconds: Int64, firstOpen: Double, lastClose: Double) -> Metrics {
        let eq = output.curve.equity
        let trades = output.trades
        let final = eq.last ?? initialCapital

        // Per-bar returns r_t = eq[t]/eq[t-1] - 1, t >= 1 (SMA_CROSSOVER.md §6), in one pass
        // with sums shifted by the first return (stable, and one division per bar).
        var n = 0, shift = 0.0, sum = 0.0, sumSq = 0.0, downSq = 0.0
        eq.withUnsafeBufferPointer { e in
            guard e.count > 1, let base = e.baseAddress else { return }
            shift = e[0] != 0 ? e[1] / e[0] - 1 : 0
            // Four returns at a time; a zero previous equity (no defined return) is masked out.
            let raw = UnsafeRawPointer(base)
            let step = MemoryLayout<Double>.stride
            var vSum = SIMD4<Double>(), vSq = SIMD4<Double>(), vDown = SIMD4<Double>(), vN = SIMD4<Double>()
            let vShift = SIMD4<Double>(repeating: shift)
            var t = 1
            while t + 4 <= e.count {
                let prev = (raw + (t - 1) * step).loadUnaligned(as: SIMD4<Double>.self)
                let cur = (raw + t * step).loadUnaligned(as: SIMD4<Double>.self)
                let valid = prev .!= 0
                let r = cur / prev.replacing(with: 1, where: .!valid) - 1
                let d = (r - vShift).replacing(with: 0, where: .!valid)
                vSum += d
                vSq += d * d
                vDown += (r * r).replacing(with: 0, where: .!(valid .& (r .< 0)))
                vN += SIMD4<Double>(repeating: 1).replacing(with: 0, where: .!valid)
                t += 4
            }
            sum = vSum.sum(); sumSq = vSq.sum(); downSq = vDown.sum(); n = Int(vN.sum())
            while t < e.count {
                if e[t - 1] != 0 {
                    let r = e[t] / e[t - 1] - 1
                    let d = r - shift
                    sum += d
                    sumSq += d * d
                    downSq += r < 0 ? r * r : 0
                    n += 1
                }
                t += 1
            }
        }
        let mean = n > 0 ? shift + sum / Double(n) : 0
        let variance = n > 1 ? max(0, (sumSq - sum * sum / Double(n)) / Double(n - 1)) : 0
        let sd = variance.squareRoot()
        let ann = barsPerYear.squareRoot()
        let downside = n > 0 ? (downSq / Double(n)).squareRoot() : 0

        // Drawdown from the curve's own column, so the metric equals max(drawdown_pct).
        var maxDDPct = 0.0, maxDD = 0.0, longest = 0, underwater = 0, peak = -Double.infinity
        output.curve.drawdownPct.withUnsafeBufferPointer { dd in
            for t in 0..<dd.count {
                let value = eq[t]
                if value >= peak { peak = value; underwater = 0 } else { underwater += 1; if underwater > longest { longest = underwater } }
                if dd[t] > maxDDPct { maxDDPct = dd[t]; maxDD = peak - value }
            }
        }

        let years = Double(spanSeconds) / (365.25 * 86_400)
        let cagr: Double? = years > 0 && final > 0 ? (pow(final / initialCapital, 1 / years) - 1) * 100 : nil

        let wins = trades.filter { $0.netPnl > 0 }.map(\.netPnl)
        let losses = trades.filter { $0.netPnl < 0 }.map(\.netPnl)
        let pnl = trades.map(\.netPnl)
        let pnlMean = pnl.isEmpty ? nil : pnl.reduce(0, +) / Double(pnl.count)
        var pnlSD: Double? = nil
        if let pnlMean, pnl.count > 1 {
            pnlSD = (pnl.reduce(0) { $0 + ($1 - pnlMean) * ($1 - pnlMean) } / Double(pnl.count - 1)).squareRoot()
        }
        let exposed = output.curve.position.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }

        func ratio(_ a: Double?, _ b: Double?) -> Double? {
            guard let a, let b, b != 0, a.isFinite, b.isFinite else { return nil }
            let r = a / b
            return r.isFinite ? r : nil
        }
        func average(_ xs: [Double]) -> Double? { xs.isEmpty ? nil : xs.reduce(0, +) / Double(xs.count) }

        return Metrics(
            initialCapital: initialCapital, finalEquity: final,
            totalReturn: final - initialCapital, totalReturnPct: (final / initialCapital - 1) * 100,
            annualizedReturn: cagr,
            volatility: n > 1 ? sd * ann * 100 : nil,
            sharpeRatio: ratio(mean, sd).map { $0 * ann },
            sortinoRatio: ratio(mean, downside).map { $0 * ann },
            maxDrawdownPct: maxDDPct, maxDrawdown: maxDD, maxDrawdownDuration: longest,
            calmarRatio: ratio(cagr, maxDDPct),
            totalTrades: trades.count, winningTrades: wins.count, losingTrades: losses.count,
            winRate: trades.isEmpty ? nil : Double(wins.count) / Double(trades.count),
            profitFactor: ratio(wins.reduce(0, +), losses.isEmpty ? nil : -losses.reduce(0, +)),
            avgWin: average(wins), avgLoss: average(losses),
            largestWin: wins.max(), largestLoss: losses.min(),
            expectancy: pnlMean,
            sqn: ratio(pnlMean, pnlSD).map { $0 * Double(pnl.count).squareRoot() },
            exposurePct: eq.isEmpty ? 0 : Double(exposed) / Double(eq.count) * 100,
            buyAndHoldReturnPct: firstOpen > 0 ? (lastClose / firstOpen - 1) * 100 : 0,
            avgBarsHeld: average(trades.map { Double($0.barsHeld) }),
            barsPerYear: barsPerYear)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
