import Foundation

/// A table to export (trades, an equity curve, a sweep's trials), typed by column, written as
/// CSV or Parquet from the same columns.
public struct ExportTable: Sendable {
    /// One column: its name and values, all columns of a table the same length.
    public enum Column: Sendable {
        case double(String, [Double?])
        case int64(String, [Int64])
        /// UTC epoch seconds, stored as TIMESTAMP(MICROS, adjusted to UTC).
        case timestamp(String, [Int64])
        case string(String, [String])

        var name: String {
            switch self {
            case let .double(n, _), let .int64(n, _), let .timestamp(n, _), let .string(n, _): n
            }
        }

        var count: Int {
            switch self {
            case let .double(_, v): v.count
            case let .int64(_, v), let .timestamp(_, v): v.count
            case let .string(_, v): v.count
            }
        }
    }

    public var columns: [Column]
    public var createdBy: String

    public init(columns: [Column], createdBy: String = "ktrdrd \(BuildInfo.version)") {
        self.columns = columns
        self.createdBy = createdBy
    }

    /// RFC 4180 CSV with a header row: doubles in Swift's shortest round-trip form, null as an
    /// empty field, timestamps in ISO-8601 UTC, strings quoted when they need it.
    public func csv() -> String {
        var out = columns.map { Self.quoted($0.name) }.joined(separator: ",") + "\n"
        let rows = columns.first?.count ?? 0
        for r in 0..<rows {
            out += columns.map { c -> String in
                switch c {
                case let .double(_, v): v[r].map { "\($0)" } ?? ""
                case let .int64(_, v): "\(v[r])"
                case let .timestamp(_, v): UTCTime.iso(v[r])
                case let .string(_, v): Self.quoted(v[r])
                }
            }.joined(separator: ",") + "\n"
        }
        return out
    }

    static func quoted(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

extension ExportTable {
    /// One row per trade, the columns of the result's `trades` by their wire names.
    public static func trades(_ trades: [Trade]) -> ExportTable {
        ExportTable(columns: Trade.Field.allCases.map { f in
            let name = f.json
            switch f {
            case .tradeId: return .int64(name, trades.map { Int64($0.tradeId) })
            case .side: return .string(name, trades.map { $0.side > 0 ? "long" : "short" })
            case .entryTime: return .timestamp(name, trades.map(\.entryTime))
            case .entryPrice: return .double(name, trades.map(\.entryPrice))
            case .exitTime: return .timestamp(name, trades.map(\.exitTime))
            case .exitPrice: return .double(name, trades.map(\.exitPrice))
            case .quantity: return .double(name, trades.map(\.quantity))
            case .grossPnl: return .double(name, trades.map(\.grossPnl))
            case .commission: return .double(name, trades.map(\.commission))
            case .slippageCost: return .double(name, trades.map(\.slippageCost))
            case .netPnl: return .double(name, trades.map(\.netPnl))
            case .returnPct: return .double(name, trades.map(\.returnPct))
            case .barsHeld: return .int64(name, trades.map { Int64($0.barsHeld) })
            case .exitReason: return .string(name, trades.map(\.exitReason.rawValue))
            }
        })
    }

    /// One row per bar: time, equity, drawdown in percent, units held (negative when short).
    public static func equity(_ c: EquityCurve) -> ExportTable {
        ExportTable(columns: [.timestamp("timestamp", c.timestamps), .double("equity", c.equity), .double("drawdown_pct", c.drawdownPct),
                              .double("position", c.position)])
    }
}
