import Foundation
import KtrdrCore

/// `POST /api/v1/walkforwards/start`, `walkforward.start`: a sweep's fields (strategy, run
/// fields, grid, condition, rank) plus the windows, in bars or calendar spans. For each window
/// the grid is swept on the `train` part and its best trial runs on the `test` part right after.
public struct WalkForwardRequest: Codable, Sendable, Equatable, StrictFields {
    public var sweep: SweepRequest
    public var train: WindowLength
    public var test: WindowLength
    /// Between two windows' starts (default: `test`, so out-of-sample parts tile).
    public var step: WindowLength?

    /// Windows cover the whole file, so a backtest's date range does not apply (refused by name).
    public static let fieldNames = SweepRequest.fieldNames.filter { !["start_date", "end_date", "mode"].contains($0) } + ["train", "test", "step"]

    private enum CodingKeys: String, CodingKey { case train, test, step }

    public init(sweep: SweepRequest, train: WindowLength, test: WindowLength, step: WindowLength? = nil) {
        self.sweep = sweep
        self.train = train
        self.test = test
        self.step = step
    }

    public init(from decoder: any Decoder) throws {
        sweep = try SweepRequest(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        train = try c.decode(WindowLength.self, forKey: .train)
        test = try c.decode(WindowLength.self, forKey: .test)
        step = try c.decodeIfPresent(WindowLength.self, forKey: .step)
    }

    public func encode(to encoder: any Encoder) throws {
        try sweep.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(train, forKey: .train)
        try c.encode(test, forKey: .test)
        try c.encodeIfPresent(step, forKey: .step)
    }
}

/// One window's outcome: the parameters chosen on its training bars, and both runs' metrics.
public struct WalkForwardWindowResult: Codable, Sendable, Equatable {
    public var index: Int
    public var trainStart: String
    public var trainEnd: String
    public var testStart: String
    public var testEnd: String
    public var trainBars: Int
    public var testBars: Int
    public var params: [String: Double]?
    public var inSample: Metrics?
    public var outOfSample: Metrics?
    public var trials: Int
    public var trialsFailed: Int
    public var error: OperationError?
    /// For a model strategy: the model trained on this window's training bars, as
    /// `--model-path` takes it (relative to the models directory).
    public var model: String?

    public init(index: Int, trainStart: String, trainEnd: String, testStart: String, testEnd: String, trainBars: Int, testBars: Int,
                params: [String: Double]?, inSample: Metrics?, outOfSample: Metrics?, trials: Int, trialsFailed: Int, error: OperationError?,
                model: String? = nil) {
        self.index = index
        self.trainStart = trainStart
        self.trainEnd = trainEnd
        self.testStart = testStart
        self.testEnd = testEnd
        self.trainBars = trainBars
        self.testBars = testBars
        self.params = params
        self.inSample = inSample
        self.outOfSample = outOfSample
        self.trials = trials
        self.trialsFailed = trialsFailed
        self.error = error
        self.model = model
    }
}

/// The out-of-sample parts joined end to end (each window's returns compounded on the last),
/// and the walk-forward efficiency: mean out-of-sample annualised return over mean in-sample
/// annualised return of the chosen parameters (nil when the in-sample mean is not above 0).
public struct WalkForwardSummary: Codable, Sendable, Equatable {
    public var bars: Int
    public var totalReturnPct: Double
    public var annualizedReturnPct: Double?
    public var sharpeRatio: Double?
    public var maxDrawdownPct: Double
    public var trades: Int
    public var walkForwardEfficiency: Double?

    public init(bars: Int, totalReturnPct: Double, annualizedReturnPct: Double?, sharpeRatio: Double?, maxDrawdownPct: Double, trades: Int,
                walkForwardEfficiency: Double?) {
        self.bars = bars
        self.totalReturnPct = totalReturnPct
        self.annualizedReturnPct = annualizedReturnPct
        self.sharpeRatio = sharpeRatio
        self.maxDrawdownPct = maxDrawdownPct
        self.trades = trades
        self.walkForwardEfficiency = walkForwardEfficiency
    }
}

/// A walk-forward's results: every finished window, and the stitched out-of-sample summary.
public struct WalkForwardResult: Codable, Sendable, Equatable {
    public var operationId: String
    public var status: OperationStatus
    public var rank: String
    public var parameters: [String]
    public var windowsTotal: Int
    public var windows: [WalkForwardWindowResult]
    public var outOfSample: WalkForwardSummary?

    public init(operationId: String, status: OperationStatus, rank: String, parameters: [String], windowsTotal: Int,
                windows: [WalkForwardWindowResult], outOfSample: WalkForwardSummary?) {
        self.operationId = operationId
        self.status = status
        self.rank = rank
        self.parameters = parameters
        self.windowsTotal = windowsTotal
        self.windows = windows
        self.outOfSample = outOfSample
    }
}
