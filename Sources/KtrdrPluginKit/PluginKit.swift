import KtrdrCore
import KtrdrPluginABI

/// Everything a strategy plugin author needs: wrap a Swift `SignalStrategy` factory into the
/// C descriptor of `ktrdr_plugin.h`. A whole plugin is a few lines:
///
///     @_cdecl("ktrdr_plugin_descriptor")
///     public func descriptor() -> UnsafeRawPointer {
///         PluginKit.strategyPlugin(name: "sma_crossover", version: "1.2.0", description: "…") { config, file, _ in
///             try SMACrossover(config: config, file: file)
///         }
///     }
///
/// Each plugin image links its own copy of this module, so the registered factory below is
/// per plugin; the host never sees a Swift type.
public enum PluginKit {
    /// Builds an instance from a validated strategy file; `model` is set when the file has a
    /// `model:` section and the host resolved one.
    public typealias StrategyFactory = @Sendable (StrategyConfig, _ file: String, _ model: ModelPredictor?) throws(KtrdrError) -> any SignalStrategy

    nonisolated(unsafe) private static var factory: StrategyFactory?
    nonisolated(unsafe) private static var descriptor: UnsafeMutablePointer<ktrdr_plugin_info>?

    /// The descriptor for a strategy plugin, built once (later calls return the first one).
    public static func strategyPlugin(name: String, version: String, description: String,
                                      make: @escaping StrategyFactory) -> UnsafeRawPointer {
        if let descriptor { return UnsafeRawPointer(descriptor) }
        factory = make
        let table = UnsafeMutablePointer<ktrdr_strategy_table>.allocate(capacity: 1)
        table.initialize(to: ktrdr_strategy_table())
        table.pointee.create = { initPointer, error in PluginKit.create(initPointer, error) }
        table.pointee.destroy = { instance in
            if let instance { Unmanaged<StrategyBox>.fromOpaque(instance).release() }
        }
        table.pointee.warmup_bars = { instance in Int64(StrategyBox.from(instance).strategy.warmupBars) }
        table.pointee.provides_confidence = { instance in StrategyBox.from(instance).strategy.providesConfidence ? 1 : 0 }
        table.pointee.compute_signals = { instance, bars, signal, confidence, error in
            PluginKit.compute(StrategyBox.from(instance).strategy, bars, nil, signal, confidence, error)
        }
        table.pointee.compute_signals_shared = { instance, bars, host, signal, confidence, error in
            PluginKit.compute(StrategyBox.from(instance).strategy, bars, host.map { HostIndicators($0.pointee) }, signal, confidence, error)
        }
        let info = UnsafeMutablePointer<ktrdr_plugin_info>.allocate(capacity: 1)
        info.initialize(to: ktrdr_plugin_info())
        info.pointee.magic = KTRDR_PLUGIN_MAGIC
        info.pointee.abi_major = UInt16(KTRDR_PLUGIN_ABI_MAJOR)
        info.pointee.abi_minor = UInt16(KTRDR_PLUGIN_ABI_MINOR)
        info.pointee.struct_size = UInt32(MemoryLayout<ktrdr_plugin_info>.size)
        info.pointee.build_signature = permanent("swift=\(BuildInfo.swiftVersion)")
        info.pointee.kind = Int32(KTRDR_PLUGIN_STRATEGY.rawValue)
        info.pointee.name = permanent(name)
        info.pointee.version = permanent(version)
        info.pointee.description = permanent(description)
        info.pointee.strategy = UnsafePointer(table)
        descriptor = info
        return UnsafeRawPointer(info)
    }

    private static func create(_ initPointer: UnsafePointer<ktrdr_strategy_init>?, _ out: UnsafeMutablePointer<ktrdr_error>?) -> UnsafeMutableRawPointer? {
        guard let initPointer, let yaml = initPointer.pointee.config_yaml, let factory else {
            report(out, KTRDR_ERR_CONFIG, "create: no configuration given")
            return nil
        }
        let file = initPointer.pointee.config_path.map { String(cString: $0) } ?? "<strategy>"
        let model = initPointer.pointee.model.map { ModelPredictor($0.pointee) }
        do throws(KtrdrError) {
            let config = try StrategyLoader.parse(String(cString: yaml), fileName: file, expectedName: nil)
            let strategy = try factory(config, file, model)
            return Unmanaged.passRetained(StrategyBox(strategy)).toOpaque()
        } catch {
            report(out, error.isModelProblem ? KTRDR_ERR_MODEL : KTRDR_ERR_CONFIG, ErrorText.encode(error))
            return nil
        }
    }

    private static func compute(_ strategy: any SignalStrategy, _ bars: UnsafePointer<ktrdr_bars>?, _ indicators: HostIndicators?,
                                _ signal: UnsafeMutablePointer<Int8>?,
                                _ confidence: UnsafeMutablePointer<Double>?, _ out: UnsafeMutablePointer<ktrdr_error>?) -> Int32 {
        guard let b = bars?.pointee, b.count >= 0, let signal else {
            report(out, KTRDR_ERR_RUNTIME, "compute_signals: missing bars or signal buffer")
            return Int32(KTRDR_ERR_RUNTIME.rawValue)
        }
        let n = Int(b.count)
        func column(_ p: UnsafePointer<Double>?) -> UnsafeBufferPointer<Double> { UnsafeBufferPointer(start: p, count: p == nil ? 0 : n) }
        let view = BarColumns(timestamps: UnsafeBufferPointer(start: b.timestamps, count: b.timestamps == nil ? 0 : n),
                              open: column(b.open), high: column(b.high), low: column(b.low), close: column(b.close), volume: column(b.volume))
        guard view.timestamps.count == n, view.close.count == n else {
            report(out, KTRDR_ERR_RUNTIME, "compute_signals: bars without timestamps or close")
            return Int32(KTRDR_ERR_RUNTIME.rawValue)
        }
        let conf = UnsafeMutableBufferPointer(start: confidence, count: confidence == nil || !strategy.providesConfidence ? 0 : n)
        do throws(KtrdrError) {
            let out = UnsafeMutableBufferPointer(start: signal, count: n)
            if let indicators {
                try strategy.computeSignals(bars: view, indicators: indicators.counted(n), signal: out, confidence: conf)
            } else {
                try strategy.computeSignals(bars: view, signal: out, confidence: conf)
            }
            return 0
        } catch {
            report(out, error.isModelProblem ? KTRDR_ERR_MODEL : KTRDR_ERR_RUNTIME, ErrorText.encode(error))
            return Int32((error.isModelProblem ? KTRDR_ERR_MODEL : KTRDR_ERR_RUNTIME).rawValue)
        }
    }

    static func report(_ error: UnsafeMutablePointer<ktrdr_error>?, _ code: ktrdr_error_code, _ message: String) {
        ktrdr_error_set(error, Int32(code.rawValue), message)
    }

    /// A C string copy the caller deallocates.
    static func cString(_ s: String) -> UnsafeMutablePointer<CChar> {
        let bytes = Array(s.utf8CString)
        let p = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count)
        p.initialize(from: bytes, count: bytes.count)
        return p
    }

    /// A C string that lives as long as the process (descriptor fields).
    static func permanent(_ s: String) -> UnsafePointer<CChar> {
        UnsafePointer(cString(s))
    }
}

/// Holds one strategy instance behind an opaque C pointer.
final class StrategyBox {
    let strategy: any SignalStrategy
    init(_ strategy: any SignalStrategy) { self.strategy = strategy }
    static func from(_ p: UnsafeMutableRawPointer?) -> StrategyBox { Unmanaged<StrategyBox>.fromOpaque(p!).takeUnretainedValue() }
}

/// The host's shared indicators (`ktrdr_indicator_host`) as an `IndicatorSource`.
struct HostIndicators: IndicatorSource, @unchecked Sendable {
    let host: ktrdr_indicator_host
    var count = 0

    init(_ host: ktrdr_indicator_host) { self.host = host }

    /// The same host for a call over `n` bars (the length of every series it returns).
    func counted(_ n: Int) -> HostIndicators {
        var copy = self
        copy.count = n
        return copy
    }

    func series(_ spec: IndicatorSpec, output: Int) throws(KtrdrError) -> UnsafeBufferPointer<Double> {
        guard let series = host.series else { throw .invalidRequest("the host lends no indicator series") }
        let names = spec.parameters.keys.sorted()
        let values = names.map { spec.parameters[$0]! }
        var error = ktrdr_error()
        let pointer: UnsafePointer<Double>? = spec.kind.rawValue.withCString { kind in
            spec.source.withCString { source in
                let cNames = names.map { PluginKit.cString($0) }
                defer { cNames.forEach { $0.deallocate() } }
                return cNames.map { UnsafePointer($0) as UnsafePointer<CChar>? }.withUnsafeBufferPointer { namePointers in
                    values.withUnsafeBufferPointer { valuePointers in
                        var request = ktrdr_indicator_request(kind: kind, param_names: namePointers.baseAddress, param_values: valuePointers.baseAddress,
                                                              param_count: Int64(names.count), source: source, output: Int64(output))
                        return series(host.context, &request, &error)
                    }
                }
            }
        }
        guard let pointer else { throw .invalidRequest(String(cString: ktrdr_error_message(&error))) }
        return UnsafeBufferPointer(start: pointer, count: count)
    }
}

/// A model lent by the host (`ktrdr_model_ref`): batched prediction over a feature matrix.
public struct ModelPredictor: @unchecked Sendable {
    let ref: ktrdr_model_ref
    init(_ ref: ktrdr_model_ref) { self.ref = ref }

    public var inputSize: Int { Int(ref.input_size) }
    public var outputSize: Int { Int(ref.output_size) }

    /// Row-major `x[rows * cols]` to probabilities `out[rows * outputSize]`.
    public func predict(_ x: UnsafePointer<Double>, rows: Int, cols: Int, into out: UnsafeMutablePointer<Double>) throws(KtrdrError) {
        var error = ktrdr_error()
        guard let predict = ref.predict else { throw .modelInvalid(path: "<model>", message: "the model has no predict function") }
        if predict(ref.context, x, Int64(rows), Int64(cols), out, &error) != 0 {
            throw .modelInvalid(path: "<model>", message: String(cString: ktrdr_error_message(&error)))
        }
    }
}
