import KtrdrAPI
import KtrdrCore
import KtrdrPluginABI

/// A strategy instance living in a plugin, seen as a `SignalStrategy`. It keeps its plugin
/// generation (and the model it was lent) alive, and destroys the instance when released.
public final class PluginStrategy: SignalStrategy, @unchecked Sendable {
    public let plugin: LoadedPlugin
    public let model: LoadedModel?
    private let instance: UnsafeMutableRawPointer
    private let table: ktrdr_strategy_table
    public let warmupBars: Int
    public let providesConfidence: Bool

    /// Creates an instance from the strategy file's text (the plugin parses and checks it).
    public init(plugin: LoadedPlugin, configText: String, configPath: String, model: LoadedModel?) throws(KtrdrError) {
        let table = plugin.strategyTable
        var error = ktrdr_error()
        let created: UnsafeMutableRawPointer? = configText.withCString { yaml in
            configPath.withCString { path in
                if let model {
                    var ref = model.reference
                    return withUnsafePointer(to: &ref) { refPointer in
                        var initArgs = ktrdr_strategy_init(config_yaml: yaml, config_path: path, model: refPointer)
                        return table.create(&initArgs, &error)
                    }
                }
                var initArgs = ktrdr_strategy_init(config_yaml: yaml, config_path: path, model: nil)
                return table.create(&initArgs, &error)
            }
        }
        guard let created else { throw Self.error(error, plugin: plugin, file: configPath, model: model) }
        let warmup = table.warmup_bars(created)
        guard (0...Self.maximumWarmup).contains(warmup) else {
            table.destroy(created)
            throw .pluginInvalid(file: plugin.file, message: "\(plugin.descriptor.name) \(plugin.descriptor.version): warmup_bars() returned \(warmup); expected 0…\(Self.maximumWarmup)")
        }
        self.plugin = plugin
        self.model = model
        self.table = table
        self.instance = created
        self.warmupBars = Int(warmup)
        self.providesConfidence = table.provides_confidence(created) != 0
    }

    /// More bars than any data file holds; keeps every index computed from it far from overflow.
    static let maximumWarmup: Int64 = 1 << 40

    deinit { table.destroy(instance) }

    public var name: String { plugin.descriptor.name }
    public var version: String { plugin.descriptor.version }

    public func computeSignals(bars: BarColumns, signal: UnsafeMutableBufferPointer<Int8>,
                               confidence: UnsafeMutableBufferPointer<Double>) throws(KtrdrError) {
        var view = ktrdr_bars(count: Int64(bars.count), timestamps: bars.timestamps.baseAddress, open: bars.open.baseAddress,
                              high: bars.high.baseAddress, low: bars.low.baseAddress, close: bars.close.baseAddress,
                              volume: bars.volume.baseAddress)
        var error = ktrdr_error()
        if table.compute_signals(instance, &view, signal.baseAddress, confidence.baseAddress, &error) != 0 {
            throw Self.error(error, plugin: plugin, file: plugin.file, model: model)
        }
        try checkOutput(signal: signal, confidence: confidence, timestamps: bars.timestamps)
    }

    /// With shared indicators when the plugin takes them (ABI 1.1 `compute_signals_shared`);
    /// a plugin of ABI 1.0 computes its own.
    public func computeSignals(bars: BarColumns, indicators: any IndicatorSource, signal: UnsafeMutableBufferPointer<Int8>,
                               confidence: UnsafeMutableBufferPointer<Double>) throws(KtrdrError) {
        guard plugin.info.pointee.abi_minor >= 1, let shared = table.compute_signals_shared else {
            return try computeSignals(bars: bars, signal: signal, confidence: confidence)
        }
        var view = ktrdr_bars(count: Int64(bars.count), timestamps: bars.timestamps.baseAddress, open: bars.open.baseAddress,
                              high: bars.high.baseAddress, low: bars.low.baseAddress, close: bars.close.baseAddress,
                              volume: bars.volume.baseAddress)
        let lender = IndicatorLender(indicators)
        var host = ktrdr_indicator_host()
        host.context = Unmanaged.passUnretained(lender).toOpaque()
        host.series = { context, request, error in
            Unmanaged<IndicatorLender>.fromOpaque(context!).takeUnretainedValue().series(request, error)
        }
        var error = ktrdr_error()
        let status = withExtendedLifetime(lender) { shared(instance, &view, &host, signal.baseAddress, confidence.baseAddress, &error) }
        if status != 0 { throw Self.error(error, plugin: plugin, file: plugin.file, model: model) }
        try checkOutput(signal: signal, confidence: confidence, timestamps: bars.timestamps)
    }

    /// Every value the plugin wrote is checked before the engine reads it: a signal is -1, 0
    /// or 1; a confidence is a finite number in 0…1.
    private func checkOutput(signal: UnsafeMutableBufferPointer<Int8>, confidence: UnsafeMutableBufferPointer<Double>,
                             timestamps: UnsafeBufferPointer<Int64>) throws(KtrdrError) {
        func refuse(_ t: Int, _ value: String, expected: String) -> KtrdrError {
            .pluginInvalid(file: plugin.file, message: "\(plugin.descriptor.name) \(plugin.descriptor.version): compute_signals wrote \(value) at bar \(t) (\(UTCTime.iso(timestamps[t]))); expected \(expected)")
        }
        // Branch-free passes (vectorised); the first bad index is searched only when there is one.
        var outside: UInt8 = 0
        for v in signal { outside |= UInt8(bitPattern: v &+ 1) > 2 ? 1 : 0 }
        if outside != 0, let t = signal.firstIndex(where: { $0 < -1 || $0 > 1 }) {
            throw refuse(t, "signal \(signal[t])", expected: "-1 (sell), 0 (hold) or 1 (buy)")
        }
        guard providesConfidence else { return }
        var valid = true
        for c in confidence { valid = valid && (c >= 0) && (c <= 1) }
        if !valid, let t = confidence.firstIndex(where: { !($0 >= 0 && $0 <= 1) }) {
            throw refuse(t, "confidence \(confidence[t])", expected: "a number in 0…1")
        }
    }

    /// A plugin's error as the API reports it: configuration problems keep their paths.
    static func error(_ e: ktrdr_error, plugin: LoadedPlugin, file: String, model: LoadedModel?) -> KtrdrError {
        var e = e
        let text = String(cString: ktrdr_error_message(&e))
        switch ktrdr_error_code(rawValue: UInt32(bitPattern: e.code)) {
        case KTRDR_ERR_CONFIG:
            return .strategyInvalid(file: file, issues: ErrorText.issues(in: text) ?? [ValidationIssue(path: "", message: text)])
        case KTRDR_ERR_MODEL:
            return .modelInvalid(path: model?.directory ?? file, message: text)
        case KTRDR_ERR_CANCELLED:
            return .cancelled
        default:
            return .pluginInvalid(file: plugin.file, message: "\(plugin.descriptor.name) \(plugin.descriptor.version): \(text.isEmpty ? "failed without a message" : text)")
        }
    }
}

/// Answers a plugin's `ktrdr_indicator_host.series` calls from an `IndicatorSource`; every
/// field of the request is checked before it is used.
final class IndicatorLender {
    let source: any IndicatorSource
    init(_ source: any IndicatorSource) { self.source = source }

    func series(_ request: UnsafePointer<ktrdr_indicator_request>?, _ error: UnsafeMutablePointer<ktrdr_error>?) -> UnsafePointer<Double>? {
        func fail(_ message: String) -> UnsafePointer<Double>? {
            ktrdr_error_set(error, Int32(KTRDR_ERR_RUNTIME.rawValue), "indicator request: \(message)")
            return nil
        }
        guard let r = request?.pointee, let kind = r.kind else { return fail("no request or no kind") }
        guard (0...16).contains(r.param_count) else { return fail("param_count \(r.param_count): expected 0…16") }
        var parameters = [String: Double]()
        for i in 0..<Int(r.param_count) {
            guard let name = r.param_names?[i], let values = r.param_values else { return fail("parameter \(i) has no name or value") }
            parameters[String(cString: name)] = values[i]
        }
        do throws(KtrdrError) {
            let spec = try IndicatorSpec.checked(kind: String(cString: kind), parameters: parameters,
                                                 source: r.source.map { String(cString: $0) }, output: Int(r.output))
            return try source.series(spec, output: Int(r.output)).baseAddress
        } catch {
            return fail(error.description)
        }
    }
}
