/// Signal codes, as they cross the plugin ABI: one `Int8` per bar.
public enum SignalCode {
    public static let sell: Int8 = -1
    public static let hold: Int8 = 0
    public static let buy: Int8 = 1
}

/// A strategy computes, for a whole range at once, a raw signal and a confidence per bar
/// into caller-owned contiguous buffers. Bar `t`'s signal may use bars `<= t` only (no
/// look-ahead). This is the shape of the plugin C ABI (`ktrdr_strategy_table`) and of batched
/// model inference: whole columns in, whole columns out. Implementations live in plugins
/// (`Plugins/`); the host adapts a loaded plugin back to this protocol.
public protocol SignalStrategy: Sendable {
    /// Name of the plugin/implementation (`sma_crossover`, …).
    var name: String { get }
    /// Version of the implementation (the plugin's version).
    var version: String { get }
    /// Bars of history needed before the first bar that can carry a signal.
    var warmupBars: Int { get }
    /// False for strategies whose every signal is certain (confidence 1): then no confidence
    /// column is allocated and `computeSignals` receives an empty buffer it must not touch.
    var providesConfidence: Bool { get }
    /// Fills `signal[t]` (SignalCode) and `confidence[t]` (0…1) for every bar of `bars`.
    func computeSignals(bars: BarColumns, signal: UnsafeMutableBufferPointer<Int8>,
                        confidence: UnsafeMutableBufferPointer<Double>) throws(KtrdrError)
    /// The same, with indicator series the caller shares between runs over these bars (a
    /// sweep's trials). The signals must be the same as without them; by default they are
    /// not used.
    func computeSignals(bars: BarColumns, indicators: any IndicatorSource, signal: UnsafeMutableBufferPointer<Int8>,
                        confidence: UnsafeMutableBufferPointer<Double>) throws(KtrdrError)
}

extension SignalStrategy {
    public var providesConfidence: Bool { true }
    public var version: String { "builtin" }

    public func computeSignals(bars: BarColumns, indicators: any IndicatorSource, signal: UnsafeMutableBufferPointer<Int8>,
                               confidence: UnsafeMutableBufferPointer<Double>) throws(KtrdrError) {
        try computeSignals(bars: bars, signal: signal, confidence: confidence)
    }

    /// Allocates and returns the signal and confidence columns (confidence empty when the
    /// strategy provides none). The strategy writes every slot, so nothing is zero-filled.
    /// `indicators`, when given, are shared series over these same bars.
    public func signals(for bars: Bars, indicators: (any IndicatorSource)? = nil) throws(KtrdrError) -> (signal: [Int8], confidence: [Double]) {
        let n = bars.count
        var signal = [Int8](unsafeUninitializedCapacity: n) { _, count in count = n }
        var confidence = providesConfidence ? [Double](unsafeUninitializedCapacity: n) { _, count in count = n } : []
        try signal.withUnsafeMutableBufferPointer { (s: inout UnsafeMutableBufferPointer<Int8>) throws(KtrdrError) in
            try confidence.withUnsafeMutableBufferPointer { (c: inout UnsafeMutableBufferPointer<Double>) throws(KtrdrError) in
                try bars.withColumns { (view: BarColumns) throws(KtrdrError) in
                    if let indicators {
                        try computeSignals(bars: view, indicators: indicators, signal: s, confidence: c)
                    } else {
                        try computeSignals(bars: view, signal: s, confidence: c)
                    }
                }
            }
        }
        return (signal, confidence)
    }
}
