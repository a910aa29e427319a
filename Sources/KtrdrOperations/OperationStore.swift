import Foundation
import KtrdrCore
import Synchronization

/// Durable history of operations in SQLite (WAL) under the daemon's state directory: every
/// record, and the full result of completed backtests (trades as JSON, the equity curve as
/// binary columns, which is ~10x smaller and faster than JSON for long curves).
public final class OperationStore: Sendable {
    private let connection: Mutex<SQLiteConnectionBox>
    /// A second connection that only checkpoints, so that a checkpoint never holds up a write.
    private let checkpointer: Mutex<SQLiteConnectionBox>
    public let path: String

    public init(path: String) throws {
        self.path = path
        let db = try SQLiteConnection(path: path)
        // 64 KiB pages: an equity curve is a few large blobs, and small pages turn each into
        // thousands of overflow pages (measured: 1M-bar result 350 ms with 4 KiB, see BENCHMARKS.md).
        // Only effective on a new file, before WAL is enabled.
        try db.execute("PRAGMA page_size=65536")
        try db.execute("PRAGMA journal_mode=WAL")
        try db.execute("PRAGMA synchronous=NORMAL")
        // Checkpoints run after a result is reported (`checkpoint()`), not inside the write
        // that completes an operation (measured: an automatic checkpoint added ~300 ms there).
        try db.execute("PRAGMA wal_autocheckpoint=0")
        try db.execute("""
            CREATE TABLE IF NOT EXISTS operations (
                id TEXT PRIMARY KEY, type TEXT NOT NULL, status TEXT NOT NULL,
                created_at TEXT NOT NULL, record TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS operations_created ON operations(created_at);
            CREATE TABLE IF NOT EXISTS results (
                id TEXT PRIMARY KEY REFERENCES operations(id) ON DELETE CASCADE,
                summary TEXT NOT NULL, trades TEXT NOT NULL,
                curve_time BLOB NOT NULL, curve_equity BLOB NOT NULL, curve_drawdown BLOB NOT NULL, curve_position BLOB NOT NULL);
            PRAGMA foreign_keys=ON;
            """)
        connection = Mutex(SQLiteConnectionBox(db))
        checkpointer = Mutex(SQLiteConnectionBox(try SQLiteConnection(path: path)))
    }

    private static let encoder = ResultJSON.encoder()
    private static let decoder = ResultJSON.decoder()

    public func save(_ record: OperationRecord) throws {
        let json = String(decoding: try Self.encoder.encode(record), as: UTF8.self)
        _ = try connection.withLock { box in
            try box.db.query("""
                INSERT INTO operations(id, type, status, created_at, record) VALUES(?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET status = excluded.status, record = excluded.record
                """, [.text(record.operationId), .text(record.operationType.rawValue), .text(record.status.rawValue),
                      .text(record.createdAt), .text(json)])
        }
    }

    public func record(_ id: String) throws -> OperationRecord? {
        let rows = try connection.withLock { try $0.db.query("SELECT record FROM operations WHERE id = ?", [.text(id)]) }
        guard let text = rows.first?.first?.text else { return nil }
        return try Self.decoder.decode(OperationRecord.self, from: Data(text.utf8))
    }

    /// Newest first.
    public func list(status: OperationStatus? = nil, type: OperationType? = nil, activeOnly: Bool = false,
                     limit: Int = 100, offset: Int = 0) throws -> (records: [OperationRecord], total: Int) {
        var clauses = [String](), params = [SQLiteValue]()
        if let status { clauses.append("status = ?"); params.append(.text(status.rawValue)) }
        if let type { clauses.append("type = ?"); params.append(.text(type.rawValue)) }
        if activeOnly { clauses.append("status IN ('pending', 'running')") }
        let whereSQL = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        return try connection.withLock { box in
            let total = try box.db.query("SELECT COUNT(*) FROM operations \(whereSQL)", params).first?.first?.int ?? 0
            let rows = try box.db.query("SELECT record FROM operations \(whereSQL) ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
                                        params + [.int(Int64(limit)), .int(Int64(offset))])
            let records = try rows.compactMap { $0.first?.text }.map { try Self.decoder.decode(OperationRecord.self, from: Data($0.utf8)) }
            return (records, Int(total))
        }
    }

    public func saveResult(_ id: String, _ result: BacktestResult) throws {
        let summary = String(decoding: try Self.encoder.encode(ResultHeader(result)), as: UTF8.self)
        var tradesJSON = FastJSON(capacity: result.trades.count * 320)
        tradesJSON.array(result.trades) { $0.trade($1) }
        let trades = String(decoding: tradesJSON.bytes, as: UTF8.self)
        let c = result.equityCurve
        // The columns are bound in place (no copy): they outlive the statement.
        try c.timestamps.withUnsafeBytes { time in
            try c.equity.withUnsafeBytes { equity in
                try c.drawdownPct.withUnsafeBytes { drawdown in
                    try c.position.withUnsafeBytes { position in
                        _ = try connection.withLock { box in
                            try box.db.query("INSERT OR REPLACE INTO results VALUES(?, ?, ?, ?, ?, ?, ?)",
                                             [.text(id), .text(summary), .text(trades), .rawBlob(time), .rawBlob(equity), .rawBlob(drawdown),
                                              .rawBlob(position)])
                        }
                    }
                }
            }
        }
    }

    public func result(_ id: String) throws -> BacktestResult? {
        let rows = try connection.withLock { try $0.db.query("SELECT * FROM results WHERE id = ?", [.text(id)]) }
        guard let row = rows.first, row.count == 7, let summary = row[1].text, let trades = row[2].text else { return nil }
        let header = try Self.decoder.decode(ResultHeader.self, from: Data(summary.utf8))
        let tradeList = try Self.decoder.decode([Trade].self, from: Data(trades.utf8))
        let curve = EquityCurve(timestamps: Self.values(row[3].blob ?? []), equity: Self.values(row[4].blob ?? []),
                                drawdownPct: Self.values(row[5].blob ?? []), position: Self.values(row[6].blob ?? []))
        return header.result(trades: tradeList, curve: curve)
    }

    /// The stored result as JSON, assembled from its stored parts without decoding the trades
    /// (the API's fast path); `includeCurve: false` leaves the curve's arrays empty.
    public func resultJSON(_ id: String, includeCurve: Bool) throws -> [UInt8]? {
        let rows = try connection.withLock { try $0.db.query("SELECT * FROM results WHERE id = ?", [.text(id)]) }
        guard let row = rows.first, row.count == 7, let summary = row[1].text, let trades = row[2].text else { return nil }
        var w = FastJSON(capacity: summary.utf8.count + trades.utf8.count + (includeCurve ? (row[4].blob?.count ?? 0) * 8 : 0) + 256)
        w.raw(Array(summary.utf8.dropLast()))  // the header object, reopened
        w.raw(",\"trades\":")
        w.raw(Array(trades.utf8))
        w.raw(",\"equity_curve\":")
        if includeCurve {
            w.curve(EquityCurve(timestamps: Self.values(row[3].blob ?? []), equity: Self.values(row[4].blob ?? []),
                                drawdownPct: Self.values(row[5].blob ?? []), position: Self.values(row[6].blob ?? [])))
        } else {
            w.curve(EquityCurve.empty)
        }
        w.raw("}")
        return w.bytes
    }

    /// Operations left `pending` or `running` by a daemon that died become `failed/interrupted`.
    public func markInterrupted() throws -> [String] {
        let (records, _) = try list(activeOnly: true, limit: 1_000_000)
        for var r in records {
            r.status = .failed
            r.completedAt = Clock.isoNow()
            r.error = OperationError(code: "interrupted", message: "the daemon stopped while this operation was \(r.status == .pending ? "pending" : "running")")
            try save(r)
        }
        return records.map(\.operationId)
    }

    /// Deletes finished operations created before `days` days ago. Returns how many.
    @discardableResult
    public func applyRetention(days: Int) throws -> Int {
        guard days > 0 else { return 0 }
        let cutoff = Clock.iso(Date(timeIntervalSinceNow: -Double(days) * 86_400))
        return try connection.withLock { box in
            try box.db.transaction {
                let ids = try box.db.query("SELECT id FROM operations WHERE created_at < ? AND status IN ('completed','failed','cancelled')", [.text(cutoff)])
                try box.db.query("DELETE FROM results WHERE id IN (SELECT id FROM operations WHERE created_at < ? AND status IN ('completed','failed','cancelled'))", [.text(cutoff)])
                try box.db.query("DELETE FROM operations WHERE created_at < ? AND status IN ('completed','failed','cancelled')", [.text(cutoff)])
                return ids.count
            }
        }
    }

    /// Moves the WAL into the database file (off the critical path of completions).
    public func checkpoint() {
        _ = try? checkpointer.withLock { try $0.db.query("PRAGMA wal_checkpoint(PASSIVE)") }
    }

    public func integrityCheck() throws -> String {
        try connection.withLock { try $0.db.query("PRAGMA integrity_check").first?.first?.text ?? "?" }
    }

    private static func values<T: FixedWidthIntegerOrDouble>(_ bytes: [UInt8]) -> [T] {
        let n = bytes.count / MemoryLayout<T>.stride
        return [T](unsafeUninitializedCapacity: n) { buffer, count in
            bytes.withUnsafeBytes { src in UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: src[0..<(n * MemoryLayout<T>.stride)])) }
            count = n
        }
    }
}

protocol FixedWidthIntegerOrDouble {}
extension Int64: FixedWidthIntegerOrDouble {}
extension Double: FixedWidthIntegerOrDouble {}

/// The connection, made sendable by living inside the store's mutex.
final class SQLiteConnectionBox: @unchecked Sendable {
    let db: SQLiteConnection
    init(_ db: SQLiteConnection) { self.db = db }
}

/// A result without its trades and curve (stored apart).
struct ResultHeader: Codable {
    var strategy: String, symbol: String, timeframe: String, start: String, end: String
    var bars: Int, warmupBars: Int
    var settings: ExecutionSettings
    var metrics: Metrics

    init(_ r: BacktestResult) {
        strategy = r.strategy; symbol = r.symbol; timeframe = r.timeframe; start = r.start; end = r.end
        bars = r.bars; warmupBars = r.warmupBars; settings = r.settings; metrics = r.metrics
    }

    func result(trades: [Trade], curve: EquityCurve) -> BacktestResult {
        BacktestResult(strategy: strategy, symbol: symbol, timeframe: timeframe, start: start, end: end, bars: bars,
                       warmupBars: warmupBars, settings: settings, metrics: metrics, trades: trades, equityCurve: curve)
    }
}
