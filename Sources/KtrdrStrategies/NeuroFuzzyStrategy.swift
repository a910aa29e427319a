import KtrdrCore

/// A classifier over feature rows: `BUY, HOLD, SELL` probabilities per row (DOMAIN.md §5).
public struct NeuralNetwork: Sendable {
    public typealias Predict = @Sendable (UnsafePointer<Double>, _ rows: Int, _ cols: Int, UnsafeMutablePointer<Double>) throws(KtrdrError) -> Void
    public let inputSize: Int
    public let outputSize: Int
    public let predict: Predict

    public init(inputSize: Int, outputSize: Int, predict: @escaping Predict) {
        self.inputSize = inputSize
        self.outputSize = outputSize
        self.predict = predict
    }
}

/// `neuro`: indicators → fuzzy memberships → the ordered feature matrix (`FeatureBuilder`,
/// the same function training uses) → one batched model call over every warm row →
/// signal = argmax, confidence = max probability. Rows before the features are warm HOLD.
public struct NeuroFuzzyStrategy: SignalStrategy {
    public static let pluginName = "neuro"

    public let config: StrategyConfig
    public let network: NeuralNetwork
    public let featureNames: [String]

    public init(config: StrategyConfig, file: String, network: NeuralNetwork) throws(KtrdrError) {
        _ = try config.parameters(defaults: [:], file: file)
        let names = FeatureBuilder.featureNames(for: config)
        guard !names.isEmpty else {
            throw .strategyInvalid(file: file, issues: [ValidationIssue(path: "fuzzy_sets", message: "the neuro plugin needs at least one fuzzy set")])
        }
        guard network.inputSize == names.count || network.inputSize < 0 else {
            throw .modelInvalid(path: file, message: "the network takes \(network.inputSize) inputs but the strategy produces \(names.count) features: \(names.joined(separator: ", "))")
        }
        guard network.outputSize == TrainingLabels.classes.count || network.outputSize < 0 else {
            throw .modelInvalid(path: file, message: "the network has \(network.outputSize) outputs; expected 3 (BUY, HOLD, SELL)")
        }
        self.config = config
        self.network = network
        self.featureNames = names
    }

    public var name: String { Self.pluginName }
    public var warmupBars: Int {
        (config.indicators.map(\.lookback).max() ?? 0) + (config.model?.lookbackPeriods ?? 0)
    }

    public func computeSignals(bars: BarColumns, signal: UnsafeMutableBufferPointer<Int8>,
                               confidence: UnsafeMutableBufferPointer<Double>) throws(KtrdrError) {
        let n = bars.count
        for t in 0..<n { signal[t] = SignalCode.hold; confidence[t] = 0 }
        let features = FeatureBuilder.build(config, bars: bars.materialize())
        let width = features.columns
        let first = features.firstCompleteRow()
        guard first < n else { return }
        let rows = n - first
        var probabilities = [Double](repeating: 0, count: rows * TrainingLabels.classes.count)
        try features.values.withUnsafeBufferPointer { (x: UnsafeBufferPointer<Double>) throws(KtrdrError) in
            try probabilities.withUnsafeMutableBufferPointer { (out: inout UnsafeMutableBufferPointer<Double>) throws(KtrdrError) in
                try network.predict(x.baseAddress! + first * width, rows, width, out.baseAddress!)
            }
        }
        for r in 0..<rows {
            let p = (probabilities[r * 3], probabilities[r * 3 + 1], probabilities[r * 3 + 2])
            // argmax, first maximum wins (as torch.argmax)
            let (cls, best) = p.0 >= p.1 ? (p.0 >= p.2 ? (0, p.0) : (2, p.2)) : (p.1 >= p.2 ? (1, p.1) : (2, p.2))
            signal[first + r] = cls == 0 ? SignalCode.buy : (cls == 2 ? SignalCode.sell : SignalCode.hold)
            confidence[first + r] = best
        }
    }
}
