extension Metrics {
    /// A metric by its field: statistics are found by name (`sharpe_ratio`). Nil when undefined.
    public func value(_ field: Field) -> Double? {
        switch field {
        case .initialCapital: initialCapital
        case .finalEquity: finalEquity
        case .totalReturn: totalReturn
        case .totalReturnPct: totalReturnPct
        case .annualizedReturn: annualizedReturn
        case .volatility: volatility
        case .sharpeRatio: sharpeRatio
        case .sortinoRatio: sortinoRatio
        case .maxDrawdownPct: maxDrawdownPct
        case .maxDrawdown: maxDrawdown
        case .maxDrawdownDuration: Double(maxDrawdownDuration)
        case .calmarRatio: calmarRatio
        case .totalTrades: Double(totalTrades)
        case .winningTrades: Double(winningTrades)
        case .losingTrades: Double(losingTrades)
        case .winRate: winRate
        case .profitFactor: profitFactor
        case .avgWin: avgWin
        case .avgLoss: avgLoss
        case .largestWin: largestWin
        case .largestLoss: largestLoss
        case .expectancy: expectancy
        case .sqn: sqn
        case .exposurePct: exposurePct
        case .buyAndHoldReturnPct: buyAndHoldReturnPct
        case .avgBarsHeld: avgBarsHeld
        case .barsPerYear: barsPerYear
        }
    }
}

/// What a sweep ranks its trials by: one metric, best first. Higher is better except for
/// drawdowns and volatility (override with `order`). Undefined values rank last; ties keep
/// the trials' order (grid order), so a ranking is the same on every run.
public struct RankMetric: Sendable, Equatable, Codable {
    public let metric: String
    public let descending: Bool

    public static let lowerIsBetter: Set<Metrics.Field> = [.maxDrawdownPct, .maxDrawdown, .maxDrawdownDuration, .volatility]

    public init(_ name: String, order: String? = nil) throws(KtrdrError) {
        guard let field = Metrics.Field.allCases.first(where: { $0.json == name }) else {
            let names = Metrics.Field.allCases.map(\.json)
            let hint = Spelling.closest(to: name, in: names).map { " (did you mean '\($0)'?)" } ?? ""
            throw .invalidRequest("rank: unknown metric '\(name)'\(hint): expected one of \(names.joined(separator: ", "))")
        }
        switch order {
        case nil: descending = !Self.lowerIsBetter.contains(field)
        case "desc"?: descending = true
        case "asc"?: descending = false
        case let other?: throw .invalidRequest("rank_order: '\(other)': expected asc or desc")
        }
        metric = name
    }

    public var field: Metrics.Field { Metrics.Field.allCases.first { $0.json == metric }! }

    public func value(_ m: Metrics?) -> Double? { m.flatMap { $0.value(field) }.flatMap { $0.isFinite ? $0 : nil } }

    /// True when `a` ranks strictly before `b`.
    public func better(_ a: Double?, than b: Double?) -> Bool {
        switch (a, b) {
        case let (x?, y?): return descending ? x > y : x < y
        case (.some, nil): return true
        default: return false
        }
    }

    /// Indices of `metrics` best first (a stable sort).
    public func order(_ metrics: [Metrics?]) -> [Int] {
        let values = metrics.map(value)
        return values.indices.sorted { i, j in better(values[i], than: values[j]) || (!better(values[j], than: values[i]) && i < j) }
    }
}
