import Foundation
import KtrdrCore

/// `metadata.json` of a model version (DOMAIN.md §5). Field names are snake_case on disk.
public struct ModelMetadata: Codable, Sendable, Equatable {
    public struct Architecture: Codable, Sendable, Equatable {
        public var type: String
        public var hiddenLayers: [Int]
        public var activation: String
        public var dropout: Double
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
    }
    public struct DataRange: Codable, Sendable, Equatable {
        public var file: String
        public var sha256: String
        public var start: String
        public var end: String
        public var bars: Int
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

    /// The project's snake_case JSON (`ResultJSON`), pretty and key-sorted on disk.
    static func decode(_ data: Data) throws -> ModelMetadata { try ResultJSON.decoder().decode(ModelMetadata.self, from: data) }

    func encoded() throws -> Data { try ResultJSON.encoder(pretty: true).encode(self) }
}
