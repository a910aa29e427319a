import Foundation
import KtrdrAPI
import KtrdrCore
import KtrdrPluginABI
import KtrdrFiles

/// A validated training request: everything checked before an operation exists.
public struct TrainingJob: Sendable {
    public let config: StrategyConfig
    public let model: ModelConfig
    public let training: TrainingConfig
    public let symbol: String
    public let timeframe: Timeframe
    public let dataPath: String
    /// The requested range (epoch seconds, inclusive); nil is the file's start or end.
    public let start: Int64?, end: Int64?
    /// The requested range's bars once loaded (indicators warm up on its first bars).
    public private(set) var bars = Bars()
    public let plugin: LoadedPlugin
    /// Bars the range must hold: indicator warm-up, the model's lookback, the labels'
    /// look-ahead and 100 rows.
    public let barsNeeded: Int

    /// Checks the strategy has `model` and `training` sections, zigzag labels, and that the
    /// model plugin exists. The bars are loaded later (`loaded(from:)`).
    public init(config: StrategyConfig, symbol: String, timeframe: Timeframe, dataPath: String, start: Int64? = nil, end: Int64? = nil,
                plugins: PluginHost, modelPlugin: String = "torch") throws(KtrdrError) {
        guard let model = config.model, let training = config.training else {
            throw .invalidRequest("strategy '\(config.name)' has no model and training sections: nothing to train")
        }
        guard training.labelSource == "zigzag" else {
            throw .invalidRequest("training.labels.source '\(training.labelSource)' is not supported: expected zigzag")
        }
        self.config = config
        self.model = model
        self.training = training
        self.symbol = symbol
        self.timeframe = timeframe
        self.dataPath = dataPath
        self.start = start
        self.end = end
        self.barsNeeded = (config.indicators.map(\.lookback).max() ?? 0) + model.lookbackPeriods + training.labelLookahead + 100
        self.plugin = try plugins.plugin(named: modelPlugin, kind: .model)
    }

    /// The job with the requested range of `all` (the whole file), checked for enough bars.
    public func loaded(from all: Bars) throws(KtrdrError) -> TrainingJob {
        let from = start.map { all.firstIndex(atOrAfter: $0) } ?? 0
        let to = end.map { all.firstIndex(atOrAfter: $0 + 1) } ?? all.count
        var job = self
        job.bars = from == 0 && to == all.count ? all : all.slice(from..<max(from, to))
        try checkCount(job.bars.count)
        return job
    }

    /// `insufficient_data` unless `found` bars are enough.
    public func checkCount(_ found: Int) throws(KtrdrError) {
        guard found >= barsNeeded else {
            throw .insufficientData(needed: barsNeeded, found: found,
                                    detail: "bars to train \(config.name) on \(symbol) \(timeframe.rawValue): warm-up, look-ahead and 100 rows")
        }
    }
}

/// Features (the same `FeatureBuilder` inference uses), zigzag labels, a chronological
/// split with a purge gap, training in the model plugin, then a new model version directory
/// written atomically (`model.pt` + `metadata.json`, renamed into place).
public enum Trainer {
    /// `into`, when given, is the directory the model is published as (it must not exist;
    /// version 0): a walk-forward window's model, kept beside the numbered versions.
    public static func run(_ job: TrainingJob, models: ModelStore, into: String? = nil,
                           onEpoch: @escaping @Sendable (EpochReport) -> Bool) throws(KtrdrError) -> TrainingOutcome {
        let started = Date()
        let dataset = Dataset(job)
        let directory = (models.root as NSString).appendingPathComponent(job.config.name)
        let staging = (directory as NSString).appendingPathComponent(".training-\(UUID().uuidString)")
        do { try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true) } catch {
            throw .io(path: staging, message: "cannot create the model directory: \(error.localizedDescription)")
        }
        defer { try? FileManager.default.removeItem(atPath: staging) }
        let modelFile = (staging as NSString).appendingPathComponent("model.pt")
        let summary = try train(job, dataset, output: modelFile, onEpoch: onEpoch)

        let (first, last) = (job.bars.timestamps.first ?? 0, job.bars.timestamps.last ?? 0)
        var metadata = ModelMetadata(
            strategy: job.config.name, strategyVersion: job.config.version, symbol: job.symbol, timeframe: job.timeframe.rawValue,
            version: 0, features: dataset.featureNames, inputSize: dataset.featureNames.count, outputClasses: TrainingLabels.classes,
            architecture: .init(type: job.model.type, hiddenLayers: job.model.hiddenLayers, activation: job.model.activation,
                                dropout: job.model.dropout),
            training: .init(epochs: job.model.epochs, epochsRun: Int(summary.epochs_run), learningRate: job.model.learningRate,
                            batchSize: job.model.batchSize, optimizer: job.model.optimizer, seed: job.training.seed,
                            finalLoss: summary.final_loss, trainAccuracy: summary.train_accuracy, valAccuracy: summary.val_accuracy,
                            testAccuracy: summary.test_accuracy, trainRows: dataset.train.count, valRows: dataset.validation.count,
                            testRows: dataset.test.count, periods: dataset.periods, labelCounts: dataset.labelCounts,
                            zigzagThreshold: job.training.zigzagThreshold, labelLookahead: job.training.labelLookahead,
                            seconds: (Date().timeIntervalSince(started) * 1000).rounded() / 1000),
            data: .init(file: (job.dataPath as NSString).lastPathComponent, sha256: try sha256(job.dataPath),
                        start: UTCTime.iso(first), end: UTCTime.iso(last), bars: job.bars.count),
            modelPlugin: job.plugin.descriptor.name,
            libtorchVersion: PluginDescriptor.signatureFields(job.plugin.descriptor.buildSignature)["libtorch"] ?? "unknown",
            createdAt: UTCTime.iso(Int64(Date().timeIntervalSince1970)))
        if let into {
            do { try metadata.encoded().write(to: URL(fileURLWithPath: (staging as NSString).appendingPathComponent("metadata.json"))) } catch {
                throw .io(path: staging, message: "cannot write metadata.json: \(error.localizedDescription)")
            }
            guard rename(staging, into) == 0 else { throw .io(path: into, message: "cannot publish the model: \(String(cString: strerror(errno)))") }
            return TrainingOutcome(modelPath: into, version: 0, metadata: metadata)
        }
        return try publish(staging: staging, metadata: &metadata, job: job, models: models)
    }

    private static func train(_ job: TrainingJob, _ d: Dataset, output: String,
                              onEpoch: @escaping @Sendable (EpochReport) -> Bool) throws(KtrdrError) -> ktrdr_train_summary {
        final class Callback { let body: (EpochReport) -> Bool; let epochs: Int
            init(_ body: @escaping (EpochReport) -> Bool, _ epochs: Int) { self.body = body; self.epochs = epochs } }
        let callback = Callback(onEpoch, job.model.epochs)
        let context = Unmanaged.passRetained(callback)
        defer { context.release() }
        var summary = ktrdr_train_summary()
        var error = ktrdr_error()
        let width = d.featureNames.count
        let hidden = job.model.hiddenLayers.map(Int64.init)
        let rc: Int32 = d.x.withUnsafeBufferPointer { x in
            d.y.withUnsafeBufferPointer { y in
                hidden.withUnsafeBufferPointer { h in
                    job.model.activation.withCString { activation in
                        job.model.optimizer.withCString { optimizer in
                            output.withCString { out in
                                var r = ktrdr_train_request()
                                r.train_x = x.baseAddress! + d.train.lowerBound * width; r.train_y = y.baseAddress! + d.train.lowerBound
                                r.train_rows = Int64(d.train.count)
                                r.val_x = x.baseAddress! + d.validation.lowerBound * width; r.val_y = y.baseAddress! + d.validation.lowerBound
                                r.val_rows = Int64(d.validation.count)
                                r.test_x = x.baseAddress! + d.test.lowerBound * width; r.test_y = y.baseAddress! + d.test.lowerBound
                                r.test_rows = Int64(d.test.count)
                                r.input_size = Int64(width); r.output_size = Int64(TrainingLabels.classes.count)
                                r.hidden_layers = h.baseAddress; r.hidden_count = Int64(h.count)
                                r.activation = activation; r.dropout = job.model.dropout
                                r.learning_rate = job.model.learningRate; r.batch_size = Int64(job.model.batchSize)
                                r.epochs = Int64(job.model.epochs); r.optimizer = optimizer
                                r.seed = UInt64(truncatingIfNeeded: job.training.seed); r.output_path = out
                                r.context = context.toOpaque()
                                r.on_epoch = { ctx, epoch, loss, trainAcc, valAcc in
                                    let cb = Unmanaged<Callback>.fromOpaque(ctx!).takeUnretainedValue()
                                    let go = cb.body(EpochReport(epoch: Int(epoch), epochs: cb.epochs, loss: loss, trainAccuracy: trainAcc, valAccuracy: valAcc))
                                    return go ? 0 : 1
                                }
                                return job.plugin.modelTable.train(&r, &summary, &error)
                            }
                        }
                    }
                }
            }
        }
        guard rc == 0 else {
            if rc == Int32(KTRDR_ERR_CANCELLED.rawValue) { throw .cancelled }
            throw .pluginInvalid(file: job.plugin.file, message: String(cString: ktrdr_error_message(&error)))
        }
        return summary
    }

    /// Renames the staging directory to the next free `…_v{N}`.
    private static func publish(staging: String, metadata: inout ModelMetadata, job: TrainingJob,
                                models: ModelStore) throws(KtrdrError) -> TrainingOutcome {
        for _ in 0..<100 {
            let version = (models.versions(strategy: job.config.name, symbol: job.symbol, timeframe: job.timeframe).last ?? 0) + 1
            metadata.version = version
            let target = models.directory(strategy: job.config.name, symbol: job.symbol, timeframe: job.timeframe, version: version)
            do {
                try metadata.encoded().write(to: URL(fileURLWithPath: (staging as NSString).appendingPathComponent("metadata.json")))
            } catch { throw .io(path: staging, message: "cannot write metadata.json: \(error.localizedDescription)") }
            if rename(staging, target) == 0 { return TrainingOutcome(modelPath: target, version: version, metadata: metadata) }
            guard errno == EEXIST || errno == ENOTEMPTY else {
                throw .io(path: target, message: "cannot publish the model: \(String(cString: strerror(errno)))")
            }
        }
        throw .io(path: staging, message: "cannot find a free model version")
    }

    static func sha256(_ path: String) throws(KtrdrError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else { throw .dataNotFound(path: path) }
        return Checksum.sha256(data)
    }
}
