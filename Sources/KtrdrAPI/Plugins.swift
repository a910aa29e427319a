import Foundation

/// A plugin as `plugins list` shows it.
public struct PluginStatus: Sendable, Codable, Equatable {
    public var name: String
    public var kind: String
    public var version: String
    public var abi: String
    public var buildSignature: String
    public var file: String
    public var generation: Int
    public var loadedAt: String
    /// True for the generation new operations get.
    public var current: Bool
    public var operations: [String]
    /// False for a checked model plugin not mapped yet (it maps when first used); `loadedAt` is then when it was checked.
    public var mapped: Bool

    public init(name: String, kind: String, version: String, abi: String, buildSignature: String, file: String, generation: Int, loadedAt: String, current: Bool, operations: [String], mapped: Bool = true) {
        self.name = name
        self.kind = kind
        self.version = version
        self.abi = abi
        self.buildSignature = buildSignature
        self.file = file
        self.generation = generation
        self.loadedAt = loadedAt
        self.current = current
        self.operations = operations
        self.mapped = mapped
    }
}

/// A plugin file that failed its checks, with why.
public struct PluginProblem: Sendable, Codable, Equatable {
    public var file: String
    /// The plugin name its descriptor claims, when readable.
    public var name: String?
    public var message: String

    public init(file: String, name: String? = nil, message: String) {
        self.file = file
        self.name = name
        self.message = message
    }
}

/// `plugins list`: every loaded generation and every refused file.
public struct PluginList: Codable, Sendable {
    /// The ABI this daemon speaks.
    public var abi: String
    public var directory: String
    public var plugins: [PluginStatus]
    public var problems: [PluginProblem]

    public init(abi: String, directory: String, plugins: [PluginStatus], problems: [PluginProblem]) {
        self.abi = abi
        self.directory = directory
        self.plugins = plugins
        self.problems = problems
    }
}

/// One model version as `models list` shows it.
public struct ModelSummary: Codable, Sendable, Equatable {
    public var path: String
    public var strategy: String
    public var version: Int?
    public var symbol: String?
    public var timeframe: String?
    public var features: Int?
    public var valAccuracy: Double?
    public var testAccuracy: Double?
    public var createdAt: String?
    /// Set when metadata.json is missing or unreadable.
    public var problem: String?

    public init(path: String, strategy: String, version: Int? = nil, symbol: String? = nil, timeframe: String? = nil, features: Int? = nil, valAccuracy: Double? = nil, testAccuracy: Double? = nil, createdAt: String? = nil, problem: String? = nil) {
        self.path = path
        self.strategy = strategy
        self.version = version
        self.symbol = symbol
        self.timeframe = timeframe
        self.features = features
        self.valAccuracy = valAccuracy
        self.testAccuracy = testAccuracy
        self.createdAt = createdAt
        self.problem = problem
    }
}

/// One epoch's figures, as training reports them.
public struct EpochReport: Sendable, Codable, Equatable {
    public var epoch: Int
    public var epochs: Int
    public var loss: Double
    public var trainAccuracy: Double
    public var valAccuracy: Double

    public init(epoch: Int, epochs: Int, loss: Double, trainAccuracy: Double, valAccuracy: Double) {
        self.epoch = epoch
        self.epochs = epochs
        self.loss = loss
        self.trainAccuracy = trainAccuracy
        self.valAccuracy = valAccuracy
    }
}

/// What a finished training wrote.
public struct TrainingOutcome: Sendable, Codable, Equatable {
    public var modelPath: String
    public var version: Int
    public var metadata: ModelMetadata

    public init(modelPath: String, version: Int, metadata: ModelMetadata) {
        self.modelPath = modelPath
        self.version = version
        self.metadata = metadata
    }
}

/// What one plugin scan did.
public struct PluginReloadReport: Sendable, Codable, Equatable {
    public var loaded: [PluginStatus]
    public var unchanged: [String]
    public var problems: [PluginProblem]

    public init(loaded: [PluginStatus], unchanged: [String], problems: [PluginProblem]) {
        self.loaded = loaded
        self.unchanged = unchanged
        self.problems = problems
    }
}
