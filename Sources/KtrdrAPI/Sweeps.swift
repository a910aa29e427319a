import Foundation
import KtrdrCore

/// `POST /api/v1/sweeps/start`, `sweep.start`: one backtest per parameter set, as one parent
/// operation (`operation_type: sweep`). The run fields are a backtest's.
public struct SweepRequest: Codable, Sendable, Equatable, StrictFields {
    /// The fields every trial shares, exactly a backtest's: strategy, symbol, timeframe, dates,
    /// costs, and the fixed values (`params`, `overrides`). They sit beside the sweep's own
    /// fields in the same JSON object.
    public var run: StartRequest
    /// The swept plugin parameters: `"5:50:5"` (start:stop:step, inclusive), `"5,10,20"`, a list of numbers, or one number.
    public var grid: [String: AxisValues]
    /// A condition every trial meets, e.g. `fast_period < slow_period`.
    public var `where`: String?
    /// `grid` (default: every admissible point) or `random` (`samples` of them, drawn with `seed`).
    public var method: String?
    public var samples: Int?
    public var seed: UInt64?
    /// The metric trials are ranked by (default `sharpe_ratio`), and `asc` or `desc`.
    public var rank: String?
    public var rankOrder: String?

    /// A backtest's fields except how one operation runs (`model_path`, pacing); `mode: remote`
    /// sends trials to workers.
    public static let fieldNames = StartRequest.fieldNames.filter { !["model_path", "pace_bars_per_second"].contains($0) }
        + ["grid", "where", "method", "samples", "seed", "rank", "rank_order"]

    private enum CodingKeys: String, CodingKey { case grid, `where`, method, samples, seed, rank, rankOrder }

    public init(run: StartRequest, grid: [String: AxisValues]) {
        self.run = run
        self.grid = grid
    }

    public init(from decoder: any Decoder) throws {
        run = try StartRequest(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        grid = try c.decode([String: AxisValues].self, forKey: .grid)
        `where` = try c.decodeIfPresent(String.self, forKey: .where)
        method = try c.decodeIfPresent(String.self, forKey: .method)
        samples = try c.decodeIfPresent(Int.self, forKey: .samples)
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed)
        rank = try c.decodeIfPresent(String.self, forKey: .rank)
        rankOrder = try c.decodeIfPresent(String.self, forKey: .rankOrder)
    }

    public func encode(to encoder: any Encoder) throws {
        try run.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(grid, forKey: .grid)
        try c.encodeIfPresent(`where`, forKey: .where)
        try c.encodeIfPresent(method, forKey: .method)
        try c.encodeIfPresent(samples, forKey: .samples)
        try c.encodeIfPresent(seed, forKey: .seed)
        try c.encodeIfPresent(rank, forKey: .rank)
        try c.encodeIfPresent(rankOrder, forKey: .rankOrder)
    }

    /// One parameter's values as given: text to parse, or numbers.
    public enum AxisValues: Codable, Sendable, Equatable {
        case text(String)
        case numbers([Double])

        public init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let s = try? c.decode(String.self) { self = .text(s) } else if let v = try? c.decode(Double.self) { self = .numbers([v]) } else {
                self = .numbers(try c.decode([Double].self))
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case let .text(s): try c.encode(s)
            case let .numbers(v): try c.encode(v)
            }
        }

        public func axis(_ name: String) throws(KtrdrError) -> ParameterAxis {
            switch self {
            case let .text(s): return try ParameterAxis.parse(name: name, s)
            case let .numbers(v): return try ParameterAxis.checked(ParameterAxis(name: name, values: v))
            }
        }
    }
}

/// One trial of a sweep: its parameters, and its metrics once run.
public struct SweepTrial: Codable, Sendable, Equatable {
    /// Position in the sweep's trial list (grid order, or draw order for `random`).
    public var index: Int
    public var params: [String: Double]
    /// `completed` or `failed`.
    public var status: String
    public var metrics: Metrics?
    public var error: OperationError?
    /// What the overfitting guards need of its returns (stored; not in the API's results).
    public var returns: ReturnStats?

    public init(index: Int, params: [String: Double], status: String, metrics: Metrics? = nil, error: OperationError? = nil,
                returns: ReturnStats? = nil) {
        self.index = index
        self.params = params
        self.status = status
        self.metrics = metrics
        self.error = error
        self.returns = returns
    }
}

/// A sweep's results: every finished trial, best first.
public struct SweepResult: Codable, Sendable, Equatable {
    public var operationId: String
    /// The sweep's status: results are served at any point (a cancelled sweep keeps its finished trials).
    public var status: OperationStatus
    public var rank: String
    public var rankOrder: String
    public var parameters: [String]
    public var trialsTotal: Int
    public var trialsCompleted: Int
    public var trialsFailed: Int
    /// Trials best first; undefined rank values last; ties in trial order.
    public var trials: [SweepTrial]
    /// The command that re-runs the best trial as a full backtest (trades and equity curve).
    public var rerun: String?
    /// How likely the best trial is a lucky pick among many (see `Overfitting`).
    public var overfitting: OverfittingReport?

    public init(operationId: String, status: OperationStatus, rank: String, rankOrder: String, parameters: [String], trialsTotal: Int, trialsCompleted: Int,
                trialsFailed: Int, trials: [SweepTrial], rerun: String?) {
        self.operationId = operationId
        self.status = status
        self.rank = rank
        self.rankOrder = rankOrder
        self.parameters = parameters
        self.trialsTotal = trialsTotal
        self.trialsCompleted = trialsCompleted
        self.trialsFailed = trialsFailed
        self.trials = trials
        self.rerun = rerun
    }
}

/// The overfitting guards of a sweep (formulas in `Overfitting`): per-bar Sharpe ratios.
public struct OverfittingReport: Codable, Sendable, Equatable {
    /// Probability that the top-ranked trial's true Sharpe ratio beats the best expected from
    /// this many trials with no skill (Bailey and López de Prado, 2014).
    public var deflatedSharpeRatio: Double?
    /// That expected best per-bar Sharpe ratio, and the top-ranked trial's.
    public var expectedMaxSharpe: Double?
    public var bestSharpe: Double?
    /// Probability of backtest overfitting by CSCV over `pboBlocks` blocks (`pboSplits` splits);
    /// nil above `Overfitting.maximumPBOTrials` trials.
    public var pbo: Double?
    public var pboSplits: Int?
    public var pboBlocks: Int?
    public var trials: Int

    public init(deflatedSharpeRatio: Double?, expectedMaxSharpe: Double?, bestSharpe: Double?, pbo: Double?, pboSplits: Int?, pboBlocks: Int?, trials: Int) {
        self.deflatedSharpeRatio = deflatedSharpeRatio
        self.expectedMaxSharpe = expectedMaxSharpe
        self.bestSharpe = bestSharpe
        self.pbo = pbo
        self.pboSplits = pboSplits
        self.pboBlocks = pboBlocks
        self.trials = trials
    }
}
