/// A validated strategy file (`strategies/{name}.yaml`, DOMAIN.md §2).
public struct StrategyConfig: Sendable, Equatable {
    public var name: String
    public var version: String
    public var description: String
    public var hypothesis: String?
    /// The implementation that decides: `sma_crossover`, `rsi_mean_reversion`, `neuro`.
    public var plugin: String
    /// Plugin parameters (numbers only at present).
    public var params: [String: Double]
    public var symbols: [String]
    public var timeframes: [Timeframe]
    /// Bars loaded before `start_date` so that indicators are warm on the first requested bar.
    public var historyRequired: Int
    public var indicators: [IndicatorSpec]
    /// Fuzzified inputs, in file order.
    public var fuzzySets: [FuzzyInput]
    public var model: ModelConfig?
    public var decisions: DecisionConfig
    public var training: TrainingConfig?
    public var trading: TradingConfig
    /// The YAML text this was parsed from: what a plugin is given, so it checks exactly the
    /// file that was validated (not a second read that may see an edit in between).
    public var source: String
    // Do not add stored properties here without an ASan run of the neuro plugin: adding one
    // (the file's own text, for overridden runs) made its compute crash in ktrdrd and ktrdrctl
    // (a bad retain while copying NeuroFuzzyStrategy), though not in the unit tests.
}

/// The fuzzy sets of one indicator output, in file order.
public struct FuzzyInput: Sendable, Equatable {
    public enum Transform: Sendable, Equatable {
        case identity
        /// `reference_price / indicator_value`.
        case priceRatio(reference: String)
    }
    public var featureId: String
    public var transform: Transform
    public var sets: [(name: String, membership: Membership)]

    public static func == (a: FuzzyInput, b: FuzzyInput) -> Bool {
        a.featureId == b.featureId && a.transform == b.transform
            && a.sets.map(\.name) == b.sets.map(\.name) && a.sets.map(\.membership) == b.sets.map(\.membership)
    }
}

public struct ModelConfig: Sendable, Equatable {
    public var type: String = "mlp"
    public var hiddenLayers: [Int] = [50, 25]
    public var activation: String = "relu"
    public var dropout: Double = 0.2
    public var lookbackPeriods: Int = 2
    public var learningRate: Double = 0.001
    public var batchSize: Int = 32
    public var epochs: Int = 100
    public var optimizer: String = "adam"
}

public struct DecisionConfig: Sendable, Equatable {
    public var confidenceThreshold: Double = 0.6
    public var positionAwareness: Bool = true
    /// Counted in bars (**Decision**: the original counted hours by accident).
    public var minSignalSeparation: Int = 4
}

public struct TrainingConfig: Sendable, Equatable {
    public var labelSource: String = "zigzag"
    public var zigzagThreshold: Double = 0.03
    public var labelLookahead: Int = 20
    public var trainSplit: Double = 0.7
    public var validationSplit: Double = 0.15
    public var testSplit: Double = 0.15
    public var seed: Int = 42
}

public struct TradingConfig: Sendable, Equatable {
    public var positionSize: Double = 0.25
    public var wholeUnits: Bool = true
    public var allowShort: Bool = false
    public var stopLoss: ExitDistance?
    public var takeProfit: ExitDistance?
    public var trailingStop: ExitDistance?
    public var sizing: Sizing?
}

extension StrategyConfig {
    /// Execution settings from this strategy plus the request's capital and costs.
    public func executionSettings(initialCapital: Double, commission: Double, slippage: Double) -> ExecutionSettings {
        var s = ExecutionSettings()
        s.initialCapital = initialCapital
        s.commission = commission
        s.slippage = slippage
        s.positionSize = trading.positionSize
        s.wholeUnits = trading.wholeUnits
        s.allowShort = trading.allowShort
        s.stopLoss = trading.stopLoss
        s.takeProfit = trading.takeProfit
        s.trailingStop = trading.trailingStop
        s.sizing = trading.sizing
        s.confidenceThreshold = decisions.confidenceThreshold
        s.positionAwareness = decisions.positionAwareness
        s.minSignalSeparation = decisions.minSignalSeparation
        return s
    }
}

extension StrategyConfig {
    /// The plugin's parameters over `defaults`; a key the plugin does not know is an error
    /// naming it and the known ones. Plugins call this from their initialisers.
    public func parameters(defaults: [String: Double], file: String) throws(KtrdrError) -> [String: Double] {
        let unknown = params.keys.filter { defaults[$0] == nil }.sorted()
        guard unknown.isEmpty else {
            throw .strategyInvalid(file: file, issues: unknown.map {
                ValidationIssue(path: "params.\($0)", message: "unknown parameter for plugin '\(plugin)'"
                                + (Spelling.closest(to: $0, in: Array(defaults.keys)).map { " (did you mean '\($0)'?)" } ?? "")
                                + ": expected one of \(defaults.keys.sorted().joined(separator: ", "))")
            })
        }
        return defaults.merging(params) { _, new in new }
    }
}
