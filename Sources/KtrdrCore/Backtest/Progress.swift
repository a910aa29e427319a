import Synchronization

/// A snapshot of a running backtest, handed to a `ProgressSink` at a bounded rate.
public struct BacktestProgress: Sendable, Equatable {
    public var barsDone: Int
    public var barsTotal: Int
    /// Timestamp of the last processed bar.
    public var currentTime: Int64
    public var equity: Double
    /// Equity minus initial capital.
    public var pnl: Double
    public var tradesClosed: Int
    public var winningTrades: Int

    public init(barsDone: Int, barsTotal: Int, currentTime: Int64, equity: Double, pnl: Double, tradesClosed: Int, winningTrades: Int) {
        self.barsDone = barsDone
        self.barsTotal = barsTotal
        self.currentTime = currentTime
        self.equity = equity
        self.pnl = pnl
        self.tradesClosed = tradesClosed
        self.winningTrades = winningTrades
    }

    public var fraction: Double { barsTotal > 0 ? Double(barsDone) / Double(barsTotal) : 1 }
}

/// Receives progress from the computing thread. Called every `BacktestEngine.chunk` bars,
/// so it must be cheap (a store into a lock-protected or atomic slot); it must not block.
public typealias ProgressSink = @Sendable (BacktestProgress) -> Void

/// A cancellation flag shared between the requester and the engine: one atomic load per
/// chunk of bars on the engine side.
public final class CancellationToken: Sendable {
    private let flag = Atomic<Bool>(false)
    public init() {}
    public func cancel() { flag.store(true, ordering: .releasing) }
    public var isCancelled: Bool { flag.load(ordering: .acquiring) }
}
