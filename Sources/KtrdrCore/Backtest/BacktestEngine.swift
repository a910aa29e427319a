/// The per-bar execution loop (DOMAIN.md §6, SMA_CROSSOVER.md §4).
///
/// Order of events on bar `t`: fill what was decided on bar `t-1` at `open[t]`; then, at
/// `close[t]`, either liquidate (last bar) or turn the signal into a pending order; then mark
/// equity to the close. A decision on the close of `t` never sees `t+1` (no look-ahead).
///
/// The loop runs over raw pointers into preallocated columns: no allocation, no lock, no
/// call out except the progress sink once per `chunk` bars, where the cancellation token is
/// also read (one atomic load).
public enum BacktestEngine {
    /// Bars between two progress reports / cancellation checks.
    public static let chunk = 2048

    /// Executes `signal`/`confidence` over `bars[first...last]` (earlier bars are warm-up only).
    /// An empty `confidence` means every signal has confidence 1 (strategies without one).
    public static func run(bars: Bars, first: Int, last: Int, signal: [Int8], confidence: [Double],
                           settings s: ExecutionSettings, progress: ProgressSink? = nil,
                           cancel: CancellationToken? = nil) throws(KtrdrError) -> EngineOutput {
        precondition(first >= 0 && last < bars.count && first <= last && signal.count == bars.count && (confidence.isEmpty || confidence.count == bars.count))
        let total = last - first + 1
        // Every slot is written by the loop, so the columns skip zero-filling.
        var equity = [Double](unsafeUninitializedCapacity: total) { _, n in n = total }
        var position = [Double](unsafeUninitializedCapacity: total) { _, n in n = total }
        // Every trade is opened by a signal inside the range, so this bounds the trade count.
        var signalCount = 0
        for t in first...last where signal[t] != 0 { signalCount += 1 }
        var raw = [RawTrade](repeating: RawTrade(), count: signalCount + 1)

        var state = LoopState(settings: s)
        var cancelled = false
        // ATR columns of the exits that use one (TA-Lib ATR over the loaded bars).
        func atr(_ d: ExitDistance?) -> [Double] {
            guard let p = d?.atrPeriod else { return [] }
            return TA.atr(h: bars.high, l: bars.low, c: bars.close, period: p)
        }
        let stopATR = atr(s.stopLoss), takeATR = atr(s.takeProfit), trailATR = atr(s.trailingStop)
        bars.open.withUnsafeBufferPointer { open in
        bars.high.withUnsafeBufferPointer { high in
        bars.low.withUnsafeBufferPointer { low in
        stopATR.withUnsafeBufferPointer { stopATR in
        takeATR.withUnsafeBufferPointer { takeATR in
        trailATR.withUnsafeBufferPointer { trailATR in
        bars.close.withUnsafeBufferPointer { close in
        signal.withUnsafeBufferPointer { sig in
        confidence.withUnsafeBufferPointer { conf in
        equity.withUnsafeMutableBufferPointer { eq in
        position.withUnsafeMutableBufferPointer { pos in
        raw.withUnsafeMutableBufferPointer { trades in
            let columns = Columns(open: open.baseAddress!, high: high.baseAddress!, low: low.baseAddress!, close: close.baseAddress!,
                                  signal: sig.baseAddress!, confidence: confidence.isEmpty ? nil : conf.baseAddress,
                                  stopATR: stopATR.baseAddress, takeATR: takeATR.baseAddress, trailATR: trailATR.baseAddress,
                                  equity: eq.baseAddress! - first, position: pos.baseAddress! - first, trades: trades.baseAddress!)
            var t = first
            while t <= last {
                let chunkEnd = Swift.min(last, t + chunk - 1)
                state.run(from: t, through: chunkEnd, last: last, columns)
                t = chunkEnd + 1
                if let cancel, cancel.isCancelled { cancelled = true; return }
                if let progress {
                    let i = chunkEnd - first
                    progress(BacktestProgress(barsDone: i + 1, barsTotal: total, currentTime: bars.timestamps[chunkEnd],
                                              equity: eq[i], pnl: eq[i] - s.initialCapital,
                                              tradesClosed: state.tradeCount, winningTrades: state.wins))
                }
            }
        }}}}}}}}}}}}
        let tradeCount = state.tradeCount
        if cancelled { throw .cancelled }

        let ts = bars.timestamps
        let trades = (0..<tradeCount).map { k -> Trade in
            let r = raw[k]
            return Trade(tradeId: k + 1, side: Int(r.side), entryTime: ts[r.entryBar], entryPrice: r.entryPrice,
                         exitTime: ts[r.exitBar], exitPrice: r.exitPrice, quantity: r.quantity, grossPnl: r.gross,
                         commission: r.commission, slippageCost: r.slippage, netPnl: r.net,
                         returnPct: r.net / (r.quantity * r.entryPrice) * 100, barsHeld: r.exitBar - r.entryBar,
                         exitReason: ExitReason(code: r.reason))
        }
        // The whole file traded: share the timestamp column instead of copying it.
        let times = first == 0 && last == ts.count - 1 ? ts : Array(ts[first...last])
        let curve = EquityCurve(timestamps: times, equity: equity, drawdownPct: EquityCurve.drawdown(equity), position: position)
        return EngineOutput(trades: trades, curve: curve)
    }
}

/// Base pointers the loop works on; the output pointers are offset so that bar `t` is at `[t]`.
struct Columns {
    let open: UnsafePointer<Double>
    let high: UnsafePointer<Double>
    let low: UnsafePointer<Double>
    let close: UnsafePointer<Double>
    let signal: UnsafePointer<Int8>
    /// nil: every signal has confidence 1.
    let confidence: UnsafePointer<Double>?
    /// ATR columns of ATR-based exits (nil: that exit is a fraction, or absent).
    let stopATR: UnsafePointer<Double>?
    let takeATR: UnsafePointer<Double>?
    let trailATR: UnsafePointer<Double>?
    let equity: UnsafeMutablePointer<Double>
    let position: UnsafeMutablePointer<Double>
    let trades: UnsafeMutablePointer<RawTrade>
}

/// A closed trade as the hot loop records it (plain values, no references).
struct RawTrade {
    var side: Int8 = 0
    var reason: UInt8 = 0
    var entryBar = 0
    var exitBar = 0
    var entryPrice = 0.0
    var exitPrice = 0.0
    var quantity = 0.0
    var gross = 0.0
    var commission = 0.0
    var slippage = 0.0
    var net = 0.0
}

/// Equity marked to each bar's close over the traded range.
public struct EquityCurve: Sendable, Equatable, Codable {
    public var timestamps: [Int64]
    public var equity: [Double]
    /// No points (a result sent without its curve).
    public static let empty = EquityCurve(timestamps: [], equity: [], drawdownPct: [], position: [])

    /// Percent below the running peak (>= 0).
    public var drawdownPct: [Double]
    /// Signed units held after the bar (negative when short).
    public var position: [Double]

    /// Percent below the running peak: `(peak - equity) * (100 / peak)`, 0 while the peak is not positive.
    public static func drawdown(_ equity: [Double]) -> [Double] {
        [Double](unsafeUninitializedCapacity: equity.count) { out, n in
            var peak = -Double.infinity, scale = 0.0
            for (t, value) in equity.enumerated() {
                if value > peak { peak = value; scale = peak > 0 ? 100 / peak : 0 }
                out[t] = (peak - value) * scale
            }
            n = equity.count
        }
    }

    /// Whether `drawdown` is exactly `drawdown(equity)`, bit for bit (checked without a copy).
    public static func isDrawdown(_ drawdown: [Double], of equity: [Double]) -> Bool {
        guard drawdown.count == equity.count else { return false }
        var peak = -Double.infinity, scale = 0.0
        for t in equity.indices {
            let value = equity[t]
            if value > peak { peak = value; scale = peak > 0 ? 100 / peak : 0 }
            if ((peak - value) * scale).bitPattern != drawdown[t].bitPattern { return false }
        }
        return true
    }

    public init(timestamps: [Int64], equity: [Double], drawdownPct: [Double], position: [Double]) {
        self.timestamps = timestamps
        self.equity = equity
        self.drawdownPct = drawdownPct
        self.position = position
    }
}

/// What the loop produces; metrics are derived from it.
public struct EngineOutput: Sendable {
    public var trades: [Trade]
    public var curve: EquityCurve
}
