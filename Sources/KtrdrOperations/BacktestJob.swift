import Foundation
import KtrdrAPI
import KtrdrCore
import KtrdrFiles

/// A backtest as it can be sent anywhere: the strategy's text (not a path that may change),
/// the data file by path, the range and the costs. An executor resolves it into engine
/// inputs; a remote one will receive exactly this.
public struct BacktestSpec: Codable, Sendable, Equatable {
    public var strategyName: String
    public var strategySource: String
    public var strategySha256: String
    public var symbol: String
    public var timeframe: String
    public var dataPath: String
    /// Epoch seconds; `end` inclusive; nil: the file's first or last bar.
    public var start: Int64?
    public var end: Int64?
    public var initialCapital: Double
    public var commission: Double
    public var slippage: Double
    public var modelPath: String?
    public var paceBarsPerSecond: Double?
}

/// A validated backtest: its spec, and what this process already resolved of it (the
/// strategy instance checked at the start call; the bars too when they were in memory).
struct BacktestJob: Sendable {
    let spec: BacktestSpec
    /// The start call as received (what a worker is sent, with the strategy text).
    let startRequest: StartRequest
    let request: BacktestRequest
    let strategy: any SignalStrategy
    /// Set when nothing is left to load.
    let prepared: PreparedBacktest?

    /// Loads the bars (first phase of the operation, reported to `bridge`, cancellable), then
    /// resolves the range exactly as the start call's probe did.
    func resolve(load: (String, CSVLoader.Observer?) throws(KtrdrError) -> Bars, dataDirectory: String, bridge: ProgressBridge,
                 token: CancellationToken) throws(KtrdrError) -> PreparedBacktest {
        if let prepared { return prepared }
        let bars = try load(spec.dataPath) { phase, done, total in
            bridge.load(phase, done: done, total: total)
            return !token.isCancelled
        }
        return try Backtester.prepare(request, strategy: strategy, dataDirectory: dataDirectory) { _ throws(KtrdrError) in bars }
    }
}
