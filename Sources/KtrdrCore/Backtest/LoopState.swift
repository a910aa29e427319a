/// Portfolio state of the engine's loop: plain values, copied into registers for each chunk.
///
/// Events on bar `t`, in order: the order decided at `close[t-1]` fills at `open[t]` (a reverse
/// closes, then opens the other way at the same open); then the open position's exits are
/// checked against bar `t` (a gap through a level fills at the open, otherwise at the level;
/// when the stop and the target are both inside the bar the stop fills, as backtesting.py and
/// vectorbt assume); then the trailing extreme moves with the bar; then the close of `t` turns
/// the signal into the next order (or liquidates on the last bar); then equity is marked.
struct LoopState {
    let fee: Double, slip: Double, threshold: Double, fraction: Double
    let separation: Int
    let whole: Bool, allowShort: Bool, aware: Bool
    /// Exits: 0 none, 1 fraction of the entry fill, 2 multiple of the ATR before entry.
    let stopKind: Int, takeKind: Int, trailKind: Int
    let stopValue: Double, takeValue: Double, trailValue: Double
    /// Sizing: 0 fraction of cash, 1 cash amount, 2 units, 3 risk fraction at the stop.
    let sizingKind: Int, sizingValue: Double
    var cash: Double
    var side = 0  // +1 long, -1 short, 0 flat
    var qty = 0.0
    var pending = 0  // +1 enter long, -1 enter short, 2 exit, +3/-3 exit then enter long/short
    var lastExecuted = Int.min / 2
    var entryBar = 0, entryPrice = 0.0, entryFee = 0.0, entrySlip = 0.0
    /// Levels of the open position; the trailing distance is fixed at entry.
    var stopLevel = 0.0, takeLevel = 0.0, trailDistance = 0.0, extreme = 0.0
    var wins = 0
    var tradeCount = 0

    init(settings s: ExecutionSettings) {
        fee = s.commission; slip = s.slippage; threshold = s.confidenceThreshold; fraction = s.positionSize
        separation = s.minSignalSeparation; whole = s.wholeUnits; allowShort = s.allowShort; aware = s.positionAwareness
        cash = s.initialCapital
        func kind(_ d: ExitDistance?) -> (Int, Double) {
            switch d {
            case nil: (0, 0)
            case let .fraction(f)?: (1, f)
            case let .atr(k, _)?: (2, k)
            }
        }
        (stopKind, stopValue) = kind(s.stopLoss)
        (takeKind, takeValue) = kind(s.takeProfit)
        (trailKind, trailValue) = kind(s.trailingStop)
        switch s.sizing {
        case nil: (sizingKind, sizingValue) = (0, 0)
        case let .cash(v)?: (sizingKind, sizingValue) = (1, v)
        case let .units(v)?: (sizingKind, sizingValue) = (2, v)
        case let .risk(v)?: (sizingKind, sizingValue) = (3, v)
        }
    }

    var hasExits: Bool { stopKind != 0 || takeKind != 0 || trailKind != 0 }

    /// Bars `from...through`; `last` is the final bar of the whole run (forced liquidation).
    mutating func run(from: Int, through end: Int, last: Int, _ c: Columns) {
        var st = self  // a local copy the optimiser keeps in registers
        defer { self = st }
        let exits = st.hasExits
        for t in from...end {
            if st.pending != 0 {
                let price = c.open[t]
                if st.pending == 2 || st.pending == 3 || st.pending == -3 {
                    if st.side != 0 { st.closePosition(at: t, price: price, reason: 0, c.trades) }
                    st.pending = st.pending == 2 ? 0 : st.pending / 3
                }
                if st.pending != 0 { st.enter(at: t, price: price, c) }
                st.pending = 0
            }
            if exits, st.side != 0 { st.checkExits(at: t, c) }
            if t == last {
                if st.side != 0 { st.closePosition(at: t, price: c.close[t], reason: 1, c.trades) }
            } else {
                let code = c.signal[t]
                if code != 0, (c.confidence?[t] ?? 1) >= st.threshold, t - st.lastExecuted >= st.separation {
                    if code > 0 {
                        if st.side < 0 { st.pending = 3 } else if st.side == 0 { st.pending = 1 }
                    } else {
                        if st.side > 0 { st.pending = st.allowShort ? -3 : 2 } else if st.side == 0, st.allowShort { st.pending = -1 }
                    }
                    if st.pending != 0 || !st.aware { st.lastExecuted = t }
                }
            }
            let value = st.cash + Double(st.side) * st.qty * c.close[t]
            c.equity[t] = value
            c.position[t] = Double(st.side) * st.qty
        }
    }

    /// Opens `pending`'s side at `price` (the open of `t`), sized by the sizing mode, with the
    /// exits' levels from the fill (ATR of bar `t-1`, known when the order was decided).
    @inline(__always)
    mutating func enter(at t: Int, price: Double, _ c: Columns) {
        let dir = pending > 0 ? 1.0 : -1.0
        let fill = pending > 0 ? price * (1 + slip) : price * (1 - slip)
        func distance(_ kind: Int, _ value: Double, _ atr: UnsafePointer<Double>?) -> Double {
            kind == 1 ? fill * value : (kind == 2 ? value * (t > 0 ? atr![t - 1] : .nan) : .nan)
        }
        let stopDistance = distance(stopKind, stopValue, c.stopATR)
        var size: Double
        let affordable = cash / (fill * (1 + fee))
        switch sizingKind {
        case 1: size = Swift.min(sizingValue, cash) / (fill * (1 + fee))
        case 2: size = Swift.min(sizingValue, affordable)
        case 3: size = stopDistance > 0 ? Swift.min(sizingValue * cash / stopDistance, affordable) : 0
        default: size = fraction * cash / (fill * (1 + fee))
        }
        if whole { size = size.rounded(.down) }
        guard fill > 0, size > 0, size.isFinite else { return }
        let entryCost = size * fill * fee
        if pending > 0 { cash -= size * fill + entryCost } else { cash += size * fill - entryCost }
        side = pending > 0 ? 1 : -1
        qty = size
        entryBar = t
        entryPrice = fill
        entryFee = entryCost
        entrySlip = size * Swift.abs(fill - price)
        stopLevel = stopKind == 0 ? .nan : fill - dir * stopDistance
        takeLevel = takeKind == 0 ? .nan : fill + dir * distance(takeKind, takeValue, c.takeATR)
        trailDistance = trailKind == 0 ? .nan : (trailKind == 1 ? trailValue : distance(trailKind, trailValue, c.trailATR))
        extreme = fill
    }

    /// The open position's exits on bar `t`. NaN levels (absent, or an ATR not yet defined)
    /// never trigger.
    @inline(__always)
    mutating func checkExits(at t: Int, _ c: Columns) {
        let long = side > 0
        // The trailing level from the extreme up to the previous bar (the fill on the entry bar).
        let trail = trailKind == 0 ? Double.nan
            : (trailKind == 1 ? (long ? extreme * (1 - trailDistance) : extreme * (1 + trailDistance))
                              : (long ? extreme - trailDistance : extreme + trailDistance))
        // The protective level: the tighter of the stop and the trailing stop.
        var protective = stopLevel, reason: UInt8 = 2
        if !trail.isNaN, protective.isNaN || (long ? trail > protective : trail < protective) { protective = trail; reason = 4 }
        let open = c.open[t], high = c.high[t], low = c.low[t]
        func beyondStop(_ p: Double) -> Bool { long ? p <= protective : p >= protective }
        func beyondTarget(_ p: Double) -> Bool { long ? p >= takeLevel : p <= takeLevel }
        if t > entryBar {  // held through the open: a gap through a level fills at the open
            if beyondStop(open) { return closePosition(at: t, price: open, reason: reason, c.trades) }
            if beyondTarget(open) { return closePosition(at: t, price: open, reason: 3, c.trades) }
        }
        if beyondStop(long ? low : high) { return closePosition(at: t, price: protective, reason: reason, c.trades) }
        if beyondTarget(long ? high : low) { return closePosition(at: t, price: takeLevel, reason: 3, c.trades) }
        extreme = long ? Swift.max(extreme, high) : Swift.min(extreme, low)
    }

    @inline(__always)
    mutating func closePosition(at t: Int, price: Double, reason: UInt8, _ trades: UnsafeMutablePointer<RawTrade>) {
        let fill = side > 0 ? price * (1 - slip) : price * (1 + slip)
        let exitFee = qty * fill * fee
        if side > 0 { cash += qty * fill - exitFee } else { cash -= qty * fill + exitFee }
        let gross = side > 0 ? qty * (fill - entryPrice) : qty * (entryPrice - fill)
        let net = gross - entryFee - exitFee
        if net > 0 { wins += 1 }
        trades[tradeCount] = RawTrade(side: Int8(side), reason: reason, entryBar: entryBar, exitBar: t, entryPrice: entryPrice,
                                      exitPrice: fill, quantity: qty, gross: gross, commission: entryFee + exitFee,
                                      slippage: entrySlip + qty * Swift.abs(fill - price), net: net)
        tradeCount += 1
        side = 0
        qty = 0
    }
}
