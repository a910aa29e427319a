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
    public static func run(bars: Bars, first: Int, last: Int, signal: [Int8], confidence: [Double],
                           settings s: ExecutionSettings, progress: ProgressSink? = nil,
                           cancel: CancellationToken? = nil) throws(KtrdrError) -> EngineOutput {
        precondition(first >= 0 && last < bars.count && first <= last && signal.count == bars.count && confidence.count == bars.count)
        let total = last - first + 1
        var equity = [Double](repeating: 0, count: total)
        var drawdown = [Double](repeating: 0, count: total)
        var position = [Double](repeating: 0, count: total)
        // Every trade is opened by a signal inside the range, so this bounds the trade count.
        var signalCount = 0
        for t in first...last where signal[t] != 0 { signalCount += 1 }
        var raw = [RawTrade](repeating: RawTrade(), count: signalCount + 1)
        var tradeCount = 0

        let fee = s.commission, slip = s.slippage, threshold = s.confidenceThreshold
        let separation = s.minSignalSeparation, fraction = s.positionSize
        let whole = s.wholeUnits, allowShort = s.allowShort, aware = s.positionAwareness
        var cash = s.initialCapital
        var side = 0  // +1 long, -1 short, 0 flat
        var qty = 0.0
        var pending = 0  // +1 enter long, -1 enter short, 2 exit
        var lastExecuted = Int.min / 2
        var entryBar = 0, entryPrice = 0.0, entryFee = 0.0, entrySlip = 0.0
        var peak = -Double.infinity
        var wins = 0
        var cancelled = false

        bars.open.withUnsafeBufferPointer { open in
        bars.close.withUnsafeBufferPointer { close in
        signal.withUnsafeBufferPointer { sig in
        confidence.withUnsafeBufferPointer { conf in
        equity.withUnsafeMutableBufferPointer { eq in
        drawdown.withUnsafeMutableBufferPointer { dd in
        position.withUnsafeMutableBufferPointer { pos in
        raw.withUnsafeMutableBufferPointer { trades in
            @inline(__always) func closePosition(at t: Int, price: Double, reason: UInt8) {
                let fill = side > 0 ? price * (1 - slip) : price * (1 + slip)
                let exitFee = qty * fill * fee
                if side > 0 { cash += qty * fill - exitFee } else { cash -= qty * fill + exitFee }
                let gross = side > 0 ? qty * (fill - entryPrice) : qty * (entryPrice - fill)
                let net = gross - entryFee - exitFee
                if net > 0 { wins += 1 }
                trades[tradeCount] = RawTrade(side: Int8(side), reason: reason, entryBar: entryBar, exitBar: t,
                                              entryPrice: entryPrice, exitPrice: fill, quantity: qty, gross: gross,
                                              commission: entryFee + exitFee, slippage: entrySlip + qty * Swift.abs(fill - price), net: net)
                tradeCount += 1
                side = 0
                qty = 0
            }

            var t = first
            while t <= last {
                let chunkEnd = Swift.min(last, t + chunk - 1)
                while t <= chunkEnd {
                    if pending != 0 {
                        let price = open[t]
                        if pending == 2 {
                            closePosition(at: t, price: price, reason: 0)
                        } else {
                            let fill = pending > 0 ? price * (1 + slip) : price * (1 - slip)
                            var size = fraction * cash / (fill * (1 + fee))
                            if whole { size = size.rounded(.down) }
                            if fill > 0, size > 0, size.isFinite {
                                let entryCost = size * fill * fee
                                if pending > 0 { cash -= size * fill + entryCost } else { cash += size * fill - entryCost }
                                side = pending
                                qty = size
                                entryBar = t
                                entryPrice = fill
                                entryFee = entryCost
                                entrySlip = size * Swift.abs(fill - price)
                            }
                        }
                        pending = 0
                    }
                    if t == last {
                        if side != 0 { closePosition(at: t, price: close[t], reason: 1) }
                    } else {
                        let code = sig[t]
                        if code != 0, conf[t] >= threshold, t - lastExecuted >= separation {
                            if code > 0 {
                                if side < 0 { pending = 2 } else if side == 0 { pending = 1 }
                            } else {
                                if side > 0 { pending = 2 } else if side == 0, allowShort { pending = -1 }
                            }
                            if pending != 0 || !aware { lastExecuted = t }
                        }
                    }
                    let value = cash + Double(side) * qty * close[t]
                    if value > peak { peak = value }
                    let i = t - first
                    eq[i] = value
                    dd[i] = peak > 0 ? (peak - value) / peak * 100 : 0
                    pos[i] = Double(side) * qty
                    t += 1
                }
                if let cancel, cancel.isCancelled { cancelled = true; return }
                if let progress {
                    let i = chunkEnd - first
                    progress(BacktestProgress(barsDone: i + 1, barsTotal: total, currentTime: bars.timestamps[chunkEnd],
                                              equity: eq[i], pnl: eq[i] - s.initialCapital,
                                              tradesClosed: tradeCount, winningTrades: wins))
                }
            }
        }}}}}}}}
        if cancelled { throw .cancelled }

        let ts = bars.timestamps
        let trades = (0..<tradeCount).map { k -> Trade in
            let r = raw[k]
            return Trade(tradeId: k + 1, side: Int(r.side), entryTime: ts[r.entryBar], entryPrice: r.entryPrice,
                         exitTime: ts[r.exitBar], exitPrice: r.exitPrice, quantity: r.quantity, grossPnl: r.gross,
                         commission: r.commission, slippageCost: r.slippage, netPnl: r.net,
                         returnPct: r.net / (r.quantity * r.entryPrice) * 100, barsHeld: r.exitBar - r.entryBar,
                         exitReason: r.reason == 0 ? .signal : .endOfData)
        }
        let curve = EquityCurve(timestamps: Array(ts[first...last]), equity: equity, drawdownPct: drawdown, position: position)
        return EngineOutput(trades: trades, curve: curve)
    }
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
    /// Percent below the running peak (>= 0).
    public var drawdownPct: [Double]
    /// Signed units held after the bar (negative when short).
    public var position: [Double]

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
