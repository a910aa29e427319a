import Foundation
import KtrdrCore

/// `metadata.json` of a model version (DOMAIN.md §5). Field names are snake_case on disk.
public struct ModelMetadata: Codable, Sendable, Equatable {
    public struct Architecture: Codable, Sendable, Equatable {
        public var type: String
        public var hiddenLayers: [Int]
        public var activation: String
        public var dropout: Double
    
        public init(type: String, hiddenLayers: [Int], activation: String, dropout: Double) {
            self.type = type
            self.hiddenLayers = hiddenLayers
            self.activation = activation
            self.dropout = dropout
        }
}
    public struct TrainingSummary: Codable, Sendable, Equatable {
        public var epochs: Int
        public var epochsRun: Int
        public var learningRate: Double
        public var batchSize: Int
        public var optimizer: String
        public var seed: Int
        public var finalLoss: Double
        public var trainAccuracy: Double
        public var valAccuracy: Double
        public var testAccuracy: Double
        public var trainRows: Int
        public var valRows: Int
        public var testRows: Int
        /// `train`, `validation`, `test`: first..last bar time of each segment's rows.
        public var periods: [String: String]?
        /// Rows per class (BUY, HOLD, SELL) over all labelled rows.
        public var labelCounts: [Int]
        public var zigzagThreshold: Double
        public var labelLookahead: Int
        public var seconds: Double
    
        public init(epochs: Int, epochsRun: Int, learningRate: Double, batchSize: Int, optimizer: String, seed: Int, finalLoss: Double, trainAccuracy: Double, valAccuracy: Double, testAccuracy: Double, trainRows: Int, valRows: Int, testRows: Int, periods: [String: String]? = nil, labelCounts: [Int], zigzagThreshold: Double, labelLookahead: Int, seconds: Double) {
            self.epochs = epochs
            self.epochsRun = epochsRun
            self.learningRate = learningRate
            self.batchSize = batchSize
            self.optimizer = optimizer
            self.seed = seed
            self.finalLoss = finalLoss
            self.trainAccuracy = trainAccuracy
            self.valAccuracy = valAccuracy
            self.testAccuracy = testAccuracy
            self.trainRows = trainRows
            self.valRows = valRows
            self.testRows = testRows
            self.periods = periods
            self.labelCounts = labelCounts
            self.zigzagThreshold = zigzagThreshold
            self.labelLookahead = labelLookahead
            self.seconds = seconds
        }
}
    public struct DataRange: Codable, Sendable, Equatable {
        public var file: String
        public var sha256: String
        public var start: String
        public var end: String
        public var bars: Int
    
        public init(file: String, sha256: String, start: String, end: String, bars: Int) {
            self.file = file
            self.sha256 = sha256
            self.start = start
            self.end = end
            self.bars = bars
        }
}

    public var strategy: String
    public var strategyVersion: String
    public var symbol: String
    public var timeframe: String
    public var version: Int
    public var features: [String]
    public var inputSize: Int
    public var outputClasses: [String]
    public var architecture: Architecture
    public var training: TrainingSummary
    public var data: DataRange
    public var modelPlugin: String
    public var libtorchVersion: String
    public var createdAt: String

    /// The project's snake_case JSON (`KtrdrJSON`), pretty and key-sorted on disk.
    public static func decode(_ data: Data) throws -> ModelMetadata { try KtrdrJSON.decoder().decode(ModelMetadata.self, from: data) }

    public func encoded() throws -> Data { try KtrdrJSON.encoder(pretty: true).encode(self) }

    public init(strategy: String, strategyVersion: String, symbol: String, timeframe: String, version: Int, features: [String], inputSize: Int, outputClasses: [String], architecture: Architecture, training: TrainingSummary, data: DataRange, modelPlugin: String, libtorchVersion: String, createdAt: String) {
        self.strategy = strategy
        self.strategyVersion = strategyVersion
        self.symbol = symbol
        self.timeframe = timeframe
        self.version = version
        self.features = features
        self.inputSize = inputSize
        self.outputClasses = outputClasses
        self.architecture = architecture
        self.training = training
        self.data = data
        self.modelPlugin = modelPlugin
        self.libtorchVersion = libtorchVersion
        self.createdAt = createdAt
    }
}
