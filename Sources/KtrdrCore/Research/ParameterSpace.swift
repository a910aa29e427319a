import Foundation

/// One swept parameter and the values it takes, in order.
public struct ParameterAxis: Sendable, Equatable, Codable {
    public var name: String
    public var values: [Double]

    public init(name: String, values: [Double]) {
        self.name = name
        self.values = values
    }

    /// Parses `start:stop:step` (inclusive of `stop` when the steps land on it), `a,b,c`, or
    /// one number. Values are rounded to the decimals written (`0.1:0.3:0.1` gives 0.1, 0.2,
    /// 0.3, not 0.30000000000000004), so a trial's value is the one a user would type.
    public static func parse(name: String, _ text: String) throws(KtrdrError) -> ParameterAxis {
        let field = "params.\(name)"
        func number(_ s: Substring) throws(KtrdrError) -> Double {
            guard let v = Double(s.trimmingCharacters(in: .whitespaces)), v.isFinite else {
                throw .invalidRequest("\(field): '\(s)' is not a number (expected start:stop:step, a,b,c or a number)")
            }
            return v
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count == 3 {
            let (start, stop, step) = (try number(parts[0]), try number(parts[1]), try number(parts[2]))
            guard step > 0 else { throw .invalidRequest("\(field): step \(step) in '\(text)' must be above 0") }
            guard stop >= start else { throw .invalidRequest("\(field): stop \(stop) in '\(text)' is below start \(start)") }
            let count = ((stop - start) / step * (1 + 1e-12)).rounded(.down) + 1
            guard count <= Double(maximumValues) else {
                throw .invalidRequest("\(field): '\(text)' gives \(Int(count)) values; at most \(maximumValues) per parameter")
            }
            let scale = pow10(max(decimals(parts[0]), decimals(parts[2])))
            return ParameterAxis(name: name, values: (0..<Int(count)).map { i in
                ((start + Double(i) * step) * scale).rounded() / scale
            })
        }
        guard parts.count == 1 else { throw .invalidRequest("\(field): '\(text)': expected start:stop:step, a,b,c or a number") }
        var values = [Double]()
        for item in text.split(separator: ",", omittingEmptySubsequences: false) { values.append(try number(item)) }
        return try checked(ParameterAxis(name: name, values: values))
    }

    /// Refuses an empty axis or one that repeats a value (it would run the same trial twice).
    public static func checked(_ axis: ParameterAxis) throws(KtrdrError) -> ParameterAxis {
        guard !axis.values.isEmpty else { throw .invalidRequest("params.\(axis.name): no values") }
        guard axis.values.allSatisfy(\.isFinite) else { throw .invalidRequest("params.\(axis.name): every value must be a finite number") }
        guard Set(axis.values).count == axis.values.count else { throw .invalidRequest("params.\(axis.name): a value is listed twice") }
        guard axis.values.count <= maximumValues else {
            throw .invalidRequest("params.\(axis.name): \(axis.values.count) values; at most \(maximumValues) per parameter")
        }
        return axis
    }

    public static let maximumValues = 100_000

    private static func decimals(_ s: Substring) -> Int {
        guard let dot = s.firstIndex(of: ".") else { return 0 }
        return min(12, s[s.index(after: dot)...].prefix { $0.isNumber }.count)
    }

    private static func pow10(_ k: Int) -> Double { (0..<k).reduce(1.0) { v, _ in v * 10 } }
}

/// The trials of a sweep: the grid of its axes (first axis slowest), filtered by a condition,
/// all of it or a seeded random sample of it.
public struct ParameterSpace: Sendable, Equatable {
    public var axes: [ParameterAxis]
    public var condition: Condition?

    public init(axes: [ParameterAxis], condition: Condition? = nil) {
        self.axes = axes
        self.condition = condition
    }

    public var names: [String] { axes.map(\.name) }

    /// Points of the full grid before the condition (saturating).
    public var gridSize: Int {
        axes.reduce(1) { n, a in n.multipliedReportingOverflow(by: a.values.count).overflow ? Int.max : n * a.values.count }
    }

    /// Every grid point that meets the condition, in grid order. Refuses a grid of more than
    /// `limit` points before enumerating it.
    public func grid(limit: Int) throws(KtrdrError) -> [[Double]] {
        guard gridSize <= limit else {
            throw .invalidRequest("the grid has \(Self.grouped(gridSize)) points; at most \(Self.grouped(limit)) trials per sweep (use method random with samples, or coarser steps)")
        }
        var out = [[Double]]()
        var point = axes.map { $0.values[0] }
        var index = [Int](repeating: 0, count: axes.count)
        for _ in 0..<gridSize {
            if condition?.holds(point) ?? true { out.append(point) }
            var k = axes.count - 1
            while k >= 0 {
                index[k] += 1
                if index[k] < axes[k].values.count { point[k] = axes[k].values[index[k]]; break }
                index[k] = 0
                point[k] = axes[k].values[0]
                k -= 1
            }
        }
        return out
    }

    /// `samples` distinct grid points that meet the condition, drawn with a seeded generator
    /// (SplitMix64): the same seed gives the same trials, in the same order, on any machine.
    public func random(samples: Int, seed: UInt64, limit: Int) throws(KtrdrError) -> [[Double]] {
        guard samples >= 1, samples <= limit else { throw .invalidRequest("samples must be in 1…\(Self.grouped(limit)), got \(samples)") }
        var rng = SplitMix64(seed: seed)
        if gridSize <= 4 * limit {
            // Small enough to list: a partial Fisher-Yates shuffle of the admissible points.
            var all = try grid(limit: 4 * limit)
            let n = min(samples, all.count)
            for i in 0..<n { all.swapAt(i, i + Int(rng.next() % UInt64(all.count - i))) }
            return Array(all.prefix(n))
        }
        var seen = Set<[Double]>(), out = [[Double]]()
        var attempts = 0
        while out.count < samples, attempts < samples * 100 {
            attempts += 1
            let point = axes.map { $0.values[Int(rng.next() % UInt64($0.values.count))] }
            if condition?.holds(point) ?? true, seen.insert(point).inserted { out.append(point) }
        }
        return out
    }

    public static func grouped(_ n: Int) -> String {
        let s = String(n)
        return String(s.reversed().enumerated().map { $0.offset > 0 && $0.offset % 3 == 0 ? [",", $0.element] : [$0.element] }.joined().reversed())
    }
}
