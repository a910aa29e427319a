import Foundation
import KtrdrCore

/// What an operation does.
public enum OperationType: String, Codable, Sendable, CaseIterable {
    case backtesting, training, sweep, walkforward
    case dataLoading = "data_loading"
}

/// Lifecycle: `pending → running → completed | failed | cancelled`. Terminal states never change.
public enum OperationStatus: String, Codable, Sendable, CaseIterable {
    case pending, running, completed, failed, cancelled

    public var isTerminal: Bool { self == .completed || self == .failed || self == .cancelled }
}

/// Type-specific live figures (backtest: date, P&L, trades, win rate).
public struct ProgressContext: Codable, Sendable, Equatable {
    public var currentDate: String?
    public var currentPnl: Double?
    public var totalTrades: Int?
    public var winRate: Double?
    public var barsPerSecond: Double?
    /// `loading_data` while the data file is read and parsed (before the first bar runs).
    public var phase: String?
    /// Loading: bytes of the data file read (then parsed) so far, and its size.
    public var bytesDone: Int?
    public var bytesTotal: Int?
    /// Training: the last finished epoch's figures.
    public var epoch: Int?
    public var loss: Double?
    public var trainAccuracy: Double?
    public var valAccuracy: Double?
    /// Sweep: trials finished (completed or failed) and failed, the best so far by the rank
    /// metric (its value and parameters), and the estimated seconds left.
    public var trialsDone: Int?
    public var trialsFailed: Int?
    public var bestValue: Double?
    public var bestParams: [String: Double]?
    public var etaSeconds: Double?

    public init() {}
}

/// Progress as clients see it. `percentage` is monotonic.
public struct OperationProgress: Codable, Sendable, Equatable {
    public var percentage: Double = 0
    public var currentStep: String = "Queued"
    public var itemsProcessed: Int = 0
    public var itemsTotal: Int = 0
    public var context = ProgressContext()

    public init() {}
}

/// Why an operation failed or was cancelled. `code` is stable.
public struct OperationError: Codable, Sendable, Equatable, Error {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }
}

/// The body of a start call, backtest or training, as received and stored.
public struct StartRequest: Codable, Sendable, Equatable {
    public var strategyName: String
    public var symbol: String
    public var timeframe: String
    public var startDate: String?
    public var endDate: String?
    public var initialCapital: Double?
    public var commission: Double?
    public var slippage: Double?
    public var modelPath: String?
    public var mode: String?
    /// Replay pacing: at most this many bars per second (watching a run unfold on a
    /// dashboard, or demonstrating progress and cancellation). Nil: full speed.
    public var paceBarsPerSecond: Double?
    /// Plugin parameters for this run (`params.<name>` of the strategy file), checked as the file's.
    public var params: [String: Double]?
    /// Any other strategy-file field for this run, by dotted YAML path (`decisions.confidence_threshold`).
    public var overrides: [String: StrategyOverrides.Scalar]?

    /// What this request changes in the strategy file.
    public var strategyOverrides: StrategyOverrides { StrategyOverrides(params: params ?? [:], fields: overrides ?? [:]) }

    public init(strategyName: String, symbol: String, timeframe: String, startDate: String? = nil, endDate: String? = nil) {
        self.strategyName = strategyName
        self.symbol = symbol
        self.timeframe = timeframe
        self.startDate = startDate
        self.endDate = endDate
    }
}

extension StartRequest: StrictFields {
    public static let fieldNames = ["strategy_name", "symbol", "timeframe", "start_date", "end_date", "initial_capital", "commission",
                                    "slippage", "model_path", "mode", "pace_bars_per_second", "params", "overrides"]
}

/// Request parameters plus how the operation runs.
public struct OperationMetadata: Codable, Sendable, Equatable {
    public var parameters: StartRequest
    public var mode: String = "local"
    /// Bars traded and warm-up bars loaded, known once the request is validated.
    public var bars: Int?
    public var warmupBars: Int?
    public var dataFile: String?
    /// SHA-256 of the strategy file's text the operation runs (the file itself; overrides are in `parameters`).
    public var strategySha256: String?
    /// The plugin parameters in effect: the file's `params` with the request's written over them
    /// (a plugin's own defaults for parameters named nowhere are not listed).
    public var params: [String: Double]?
    /// The plugin generation (and model) the operation runs on.
    public var plugin: PluginUse?
    /// Training: the model version written, with its metadata.
    public var trainingResult: TrainingOutcome?
    /// Training: every epoch's figures so far.
    public var epochs: [EpochReport]?
    /// Sweep: the request as accepted (its seed filled in), and the strategy file's text it
    /// runs, so that a sweep resumed after a restart runs exactly the same trials.
    public var sweep: SweepRequest?
    public var strategySource: String?
    /// Walk-forward: the request as accepted, and once done the stitched out-of-sample summary.
    public var walkForward: WalkForwardRequest?
    public var walkForwardWindows: Int?
    public var walkForwardSummary: WalkForwardSummary?
    /// Remote mode: the worker, its operation id and the attempt (1 for the first dispatch).
    public var workerUrl: String?
    public var remoteOperationId: String?
    public var attempt: Int?
    /// Remote mode: the lease of the current attempt (the server's reads renew it).
    public var remoteLease: String?
    /// Worker side: the server's operation this one runs for.
    public var serverOperationId: String?

    public init(parameters: StartRequest, mode: String = "local", bars: Int? = nil, warmupBars: Int? = nil, dataFile: String? = nil, strategySha256: String? = nil, plugin: PluginUse? = nil, trainingResult: TrainingOutcome? = nil, epochs: [EpochReport]? = nil) {
        self.parameters = parameters
        self.mode = mode
        self.bars = bars
        self.warmupBars = warmupBars
        self.dataFile = dataFile
        self.strategySha256 = strategySha256
        self.plugin = plugin
        self.trainingResult = trainingResult
        self.epochs = epochs
    }
}

/// Which code and model an operation ran on: hot reload makes this a per-operation fact.
public struct PluginUse: Codable, Sendable, Equatable {
    public var name: String
    public var version: String
    public var generation: Int
    public var file: String
    public var modelPath: String?
    public var modelVersion: Int?

    public init(name: String, version: String, generation: Int, file: String, modelPath: String? = nil, modelVersion: Int? = nil) {
        self.name = name
        self.version = version
        self.generation = generation
        self.file = file
        self.modelPath = modelPath
        self.modelVersion = modelVersion
    }
}

/// One operation, as stored and as served (SYSTEM.md §2 field names).
public struct OperationRecord: Codable, Sendable, Equatable {
    public var operationId: String
    public var operationType: OperationType
    public var status: OperationStatus
    public var createdAt: String
    public var startedAt: String?
    public var completedAt: String?
    public var durationSeconds: Double?
    public var progress: OperationProgress
    public var metadata: OperationMetadata
    public var resultSummary: Metrics?
    public var error: OperationError?
    /// The operation this one is part of (a sweep's or walk-forward's trial); nil at top level.
    public var parentId: String?

    public static func newId(type: OperationType, at date: Date = Date()) -> String {
        let t = Int64(date.timeIntervalSince1970)
        let iso = UTCTime.iso(t)  // YYYY-MM-DDTHH:MM:SSZ
        let compact = iso.filter { $0.isNumber }.prefix(14)
        let stamp = String(compact.prefix(8)) + "_" + String(compact.suffix(6))
        let random = String(format: "%08x", UInt32.random(in: 0...UInt32.max))
        return "op_\(type.rawValue)_\(stamp)_\(random)"
    }

    /// Operation ids are generated by us; anything else is refused before any lookup.
    public static func isValidId(_ id: String) -> Bool {
        id.utf8.count <= 64 && id.hasPrefix("op_") && id.utf8.allSatisfy {
            ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x5F
        }
    }

    public init(operationId: String, operationType: OperationType, status: OperationStatus, createdAt: String, startedAt: String? = nil, completedAt: String? = nil, durationSeconds: Double? = nil, progress: OperationProgress, metadata: OperationMetadata, resultSummary: Metrics? = nil, error: OperationError? = nil, parentId: String? = nil) {
        self.operationId = operationId
        self.operationType = operationType
        self.status = status
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.completedAt = completedAt
        self.durationSeconds = durationSeconds
        self.progress = progress
        self.metadata = metadata
        self.resultSummary = resultSummary
        self.error = error
        self.parentId = parentId
    }
}

/// A sampled point of a running backtest, for `GET /operations/{id}/metrics`.
public struct BarSample: Codable, Sendable, Equatable {
    public var bar: Int
    public var date: String
    public var equity: Double
    public var pnl: Double
    public var trades: Int

    public init(bar: Int, date: String, equity: Double, pnl: Double, trades: Int) {
        self.bar = bar
        self.date = date
        self.equity = equity
        self.pnl = pnl
        self.trades = trades
    }
}

/// ISO-8601 UTC with fractional seconds: the timestamps of records.
public enum RecordTime {
    public static func isoNow() -> String { iso(Date()) }
    public static func iso(_ d: Date) -> String {
        let whole = Int64(d.timeIntervalSince1970.rounded(.down))
        let millis = Int((d.timeIntervalSince1970 - Double(whole)) * 1000)
        let base = UTCTime.iso(whole)
        return String(base.dropLast()) + String(format: ".%03dZ", millis)
    }
    public static func seconds(_ iso: String?) -> Double? {
        guard let iso, iso.count >= 20, let whole = UTCTime.parse(String(iso.prefix(19)) + "Z") else { return nil }
        let frac = iso.count > 20 ? Double("0" + iso.dropFirst(19).dropLast()) ?? 0 : 0
        return Double(whole) + frac
    }
}
