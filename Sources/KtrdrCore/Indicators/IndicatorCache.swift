import Synchronization

/// Indicator series a strategy asks for by kind and parameters instead of computing them
/// itself, so that runs over the same bars (a sweep's trials) compute each one once.
public protocol IndicatorSource: Sendable {
    /// Output `output` of `spec` over the bars being computed: one value per bar, NaN during
    /// warm-up, bit-identical to `spec.compute(bars)[output]`. Valid while the source lives.
    func series(_ spec: IndicatorSpec, output: Int) throws(KtrdrError) -> UnsafeBufferPointer<Double>
}

extension IndicatorSpec {
    /// A spec from a request by name (plugins ask through the C ABI): the kind by any of its
    /// spellings, known parameters within their ranges, a price column, an existing output.
    public static func checked(kind name: String, parameters: [String: Double], source: String?, output: Int) throws(KtrdrError) -> IndicatorSpec {
        guard let kind = IndicatorKind(name: name) else {
            throw .invalidRequest("unknown indicator '\(name)': expected one of \(IndicatorKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        for (key, value) in parameters.sorted(by: { $0.key < $1.key }) {
            guard let def = kind.parameters.first(where: { $0.name == key }) else {
                throw .invalidRequest("unknown parameter '\(key)' for \(kind.rawValue): expected \(kind.parameters.map(\.name).joined(separator: ", "))")
            }
            guard value >= def.minimum, value <= def.maximum, !def.isInteger || value == value.rounded() else {
                func text(_ v: Double) -> String { v == v.rounded() && Swift.abs(v) < 1e15 ? String(Int(v)) : "\(v)" }
                throw .invalidRequest("\(kind.rawValue) \(key) = \(text(value)): expected \(def.isInteger ? "a whole number" : "a number") in \(text(def.minimum))…\(text(def.maximum))")
            }
        }
        let column = source ?? "close"
        guard ["open", "high", "low", "close", "volume"].contains(column) else {
            throw .invalidRequest("\(kind.rawValue) source '\(column)': expected open, high, low, close or volume")
        }
        guard output >= 0, output < kind.outputs.count else {
            throw .invalidRequest("\(kind.rawValue) output \(output): expected 0…\(kind.outputs.count - 1) (\(kind.outputs.map { $0.isEmpty ? "value" : $0 }.joined(separator: ", ")))")
        }
        return IndicatorSpec(kind: kind, featureId: kind.rawValue, parameters: parameters, source: column)
    }
}

/// Indicator series shared between runs: keyed by the bars (a range of one loaded file), the
/// kind, every parameter and the output. Each distinct series is computed once while it is
/// cached, by the first run that asks; a run asking at the same time waits for it. Beyond
/// `budgetBytes` the least recently used series leave the cache; runs still using them keep
/// them alive until they finish.
public final class IndicatorCache: Sendable {
    /// Which bars a series is over: a range of one loaded file.
    public struct BarsKey: Hashable, Sendable {
        public let file: String
        public let range: Range<Int>
        public init(file: String, range: Range<Int>) { self.file = file; self.range = range }
    }

    struct Key: Hashable {
        let bars: BarsKey
        let kind: IndicatorKind
        let parameters: [String: Double]
        let source: String
        let output: Int
    }

    /// One computed column, freed when the cache and every run holding it let go.
    final class Series: Sendable {
        nonisolated(unsafe) let values: UnsafeMutableBufferPointer<Double>
        init(_ array: [Double]) {
            values = .allocate(capacity: array.count)
            _ = values.initialize(from: array)
        }
        deinit { values.deallocate() }
    }

    /// Where one key's series is computed once: concurrent askers wait on its lock.
    final class Slot: Sendable {
        let series = Mutex<Series?>(nil)
    }

    struct State {
        var slots: [Key: (slot: Slot, used: UInt64, bytes: Int)] = [:]
        var clock: UInt64 = 0
        var bytes = 0
        var computed = 0
    }

    private let state = Mutex(State())
    public let budgetBytes: Int

    public init(budgetBytes: Int = 512 << 20) { self.budgetBytes = budgetBytes }

    /// Series computed so far (a run that found its series cached computed nothing).
    public var computedCount: Int { state.withLock { $0.computed } }
    /// Bytes of the series the cache holds now.
    public var cachedBytes: Int { state.withLock { $0.bytes } }

    /// The source one run uses: series over `bars`, which are `key`'s bars.
    public func source(for bars: Bars, key: BarsKey) -> some IndicatorSource {
        View(cache: self, bars: bars, key: key)
    }

    func series(_ spec: IndicatorSpec, output: Int, bars: Bars, key barsKey: BarsKey) -> Series {
        let key = Key(bars: barsKey, kind: spec.kind, parameters: spec.parameters, source: spec.source, output: output)
        let slot = state.withLock { s in
            s.clock += 1
            if let found = s.slots[key] {
                s.slots[key]!.used = s.clock
                return found.slot
            }
            let slot = Slot()
            s.slots[key] = (slot, s.clock, 0)
            return slot
        }
        return slot.series.withLock { cached in
            if let cached { return cached }
            let made = Series(spec.compute(bars)[output].values)
            cached = made
            admit(key, bytes: made.values.count * MemoryLayout<Double>.stride)
            return made
        }
    }

    /// Counts a new series and evicts the least recently used others beyond the budget.
    private func admit(_ key: Key, bytes: Int) {
        state.withLock { s in
            s.computed += 1
            guard s.slots[key] != nil else { return }
            s.slots[key]!.bytes = bytes
            s.bytes += bytes
            while s.bytes > budgetBytes, s.slots.count > 1,
                  let oldest = s.slots.filter({ $0.key != key && $0.value.bytes > 0 }).min(by: { $0.value.used < $1.value.used }) {
                s.bytes -= oldest.value.bytes
                s.slots[oldest.key] = nil
            }
        }
    }

    /// One run's view: the series it was given stay alive as long as the view.
    final class View: IndicatorSource {
        let cache: IndicatorCache
        let bars: Bars
        let key: BarsKey
        let held = Mutex<[Series]>([])

        init(cache: IndicatorCache, bars: Bars, key: BarsKey) {
            self.cache = cache
            self.bars = bars
            self.key = key
        }

        func series(_ spec: IndicatorSpec, output: Int) throws(KtrdrError) -> UnsafeBufferPointer<Double> {
            guard output >= 0, output < spec.kind.outputs.count else {
                throw .invalidRequest("\(spec.kind.rawValue) output \(output): expected 0…\(spec.kind.outputs.count - 1)")
            }
            let s = cache.series(spec, output: output, bars: bars, key: key)
            held.withLock { $0.append(s) }
            return UnsafeBufferPointer(s.values)
        }
    }
}
