import Foundation

/// The project-wide JSON coders (API, socket, store, metadata files): snake_case keys, sorted
/// keys, `null` for undefined metrics (never NaN or Infinity), ISO-8601 UTC times in trades,
/// epoch seconds in the equity curve (compact for long curves).
public enum KtrdrJSON {
    public static func encoder(pretty: Bool = false) -> JSONEncoder {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return e
    }

    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        return d
    }
}

extension Metrics {
    /// Every metric, in its JSON order: one list for the Codable form and the OpenAPI schema
    /// (statistics are found by name). `json` is the wire name, `kind` its JSON type.
    public enum Field: String, CodingKey, CaseIterable, Sendable {
        case initialCapital, finalEquity, totalReturn, totalReturnPct, annualizedReturn, volatility, sharpeRatio, sortinoRatio
        case maxDrawdownPct, maxDrawdown, maxDrawdownDuration, calmarRatio, totalTrades, winningTrades, losingTrades, winRate
        case profitFactor, avgWin, avgLoss, largestWin, largestLoss, expectancy, sqn, exposurePct, buyAndHoldReturnPct
        case avgBarsHeld, barsPerYear

        /// The JSON type of a metric: a number, a number or `null` when undefined, an integer.
        public enum Kind: String, Sendable { case number, numberOrNull, integer }

        public var json: String { rawValue.reduce(into: "") { out, c in if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) } } }

        public var kind: Kind {
            switch self {
            case .maxDrawdownDuration, .totalTrades, .winningTrades, .losingTrades: .integer
            case .annualizedReturn, .volatility, .sharpeRatio, .sortinoRatio, .calmarRatio, .winRate, .profitFactor, .avgWin, .avgLoss,
                 .largestWin, .largestLoss, .expectancy, .sqn, .avgBarsHeld: .numberOrNull
            default: .number
            }
        }
    }
    private typealias Keys = Field

    /// Encodes undefined values as explicit `null` (synthesised Codable would omit them).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(initialCapital, forKey: .initialCapital)
        try c.encode(finalEquity, forKey: .finalEquity)
        try c.encode(totalReturn, forKey: .totalReturn)
        try c.encode(totalReturnPct, forKey: .totalReturnPct)
        try c.encode(annualizedReturn, forKey: .annualizedReturn)
        try c.encode(volatility, forKey: .volatility)
        try c.encode(sharpeRatio, forKey: .sharpeRatio)
        try c.encode(sortinoRatio, forKey: .sortinoRatio)
        try c.encode(maxDrawdownPct, forKey: .maxDrawdownPct)
        try c.encode(maxDrawdown, forKey: .maxDrawdown)
        try c.encode(maxDrawdownDuration, forKey: .maxDrawdownDuration)
        try c.encode(calmarRatio, forKey: .calmarRatio)
        try c.encode(totalTrades, forKey: .totalTrades)
        try c.encode(winningTrades, forKey: .winningTrades)
        try c.encode(losingTrades, forKey: .losingTrades)
        try c.encode(winRate, forKey: .winRate)
        try c.encode(profitFactor, forKey: .profitFactor)
        try c.encode(avgWin, forKey: .avgWin)
        try c.encode(avgLoss, forKey: .avgLoss)
        try c.encode(largestWin, forKey: .largestWin)
        try c.encode(largestLoss, forKey: .largestLoss)
        try c.encode(expectancy, forKey: .expectancy)
        try c.encode(sqn, forKey: .sqn)
        try c.encode(exposurePct, forKey: .exposurePct)
        try c.encode(buyAndHoldReturnPct, forKey: .buyAndHoldReturnPct)
        try c.encode(avgBarsHeld, forKey: .avgBarsHeld)
        try c.encode(barsPerYear, forKey: .barsPerYear)
    }
}

extension Trade {
    /// A trade's fields in their JSON order: one list for the Codable form, `FastJSON`,
    /// `ResultReader` and the OpenAPI schema. Keys are camelCase in Swift; `json` is the wire name.
    public enum Field: String, CodingKey, CaseIterable, Sendable {
        case tradeId, side, entryTime, entryPrice, exitTime, exitPrice, quantity, grossPnl, commission, slippageCost, netPnl
        case returnPct, barsHeld, exitReason

        /// The snake_case name on the wire (`entry_time`).
        public var json: String { Self.wire[self]! }

        /// The field a wire name stands for.
        public init?(json: String) {
            guard let f = Self.byWire[json] else { return nil }
            self = f
        }

        private static let wire: [Field: String] = Dictionary(uniqueKeysWithValues: allCases.map { f in
            (f, f.rawValue.reduce(into: "") { out, c in if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) } })
        })
        private static let byWire: [String: Field] = Dictionary(uniqueKeysWithValues: wire.map { ($1, $0) })
    }
    private typealias Keys = Field

    /// `side` as `long`/`short` and times as ISO-8601 UTC.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(tradeId, forKey: .tradeId)
        try c.encode(side > 0 ? "long" : "short", forKey: .side)
        try c.encode(UTCTime.iso(entryTime), forKey: .entryTime)
        try c.encode(entryPrice, forKey: .entryPrice)
        try c.encode(UTCTime.iso(exitTime), forKey: .exitTime)
        try c.encode(exitPrice, forKey: .exitPrice)
        try c.encode(quantity, forKey: .quantity)
        try c.encode(grossPnl, forKey: .grossPnl)
        try c.encode(commission, forKey: .commission)
        try c.encode(slippageCost, forKey: .slippageCost)
        try c.encode(netPnl, forKey: .netPnl)
        try c.encode(returnPct, forKey: .returnPct)
        try c.encode(barsHeld, forKey: .barsHeld)
        try c.encode(exitReason, forKey: .exitReason)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        func time(_ key: Keys) throws -> Int64 {
            let s = try c.decode(String.self, forKey: key)
            guard let t = UTCTime.parse(s) else {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "invalid time '\(s)'")
            }
            return t
        }
        self.init(tradeId: try c.decode(Int.self, forKey: .tradeId), side: try c.decode(String.self, forKey: .side) == "short" ? -1 : 1,
                  entryTime: try time(.entryTime), entryPrice: try c.decode(Double.self, forKey: .entryPrice),
                  exitTime: try time(.exitTime), exitPrice: try c.decode(Double.self, forKey: .exitPrice),
                  quantity: try c.decode(Double.self, forKey: .quantity), grossPnl: try c.decode(Double.self, forKey: .grossPnl),
                  commission: try c.decode(Double.self, forKey: .commission), slippageCost: try c.decode(Double.self, forKey: .slippageCost),
                  netPnl: try c.decode(Double.self, forKey: .netPnl), returnPct: try c.decode(Double.self, forKey: .returnPct),
                  barsHeld: try c.decode(Int.self, forKey: .barsHeld), exitReason: try c.decode(ExitReason.self, forKey: .exitReason))
    }
}
