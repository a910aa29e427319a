import Dispatch
import Foundation
import KtrdrAPI
import KtrdrCore
import KtrdrPlugins
import Synchronization

/// Durable history of operations under the daemon's state directory: records in SQLite (WAL),
/// the large parts of results (trades, equity curve) in compressed files beside it
/// (`ResultFile`), referenced by a small row with their SHA-256.
///
/// Writes go through one serial queue, in order, on one connection; reads use a small pool of
/// their own connections (WAL lets them run beside the writer), so a `get` never waits for a
/// result being stored. Nothing here runs on an actor's executor: callers off the cooperative
/// pool call the synchronous methods, async callers the `…Async` ones.
public final class OperationStore: Sendable {
    /// Schema versions, in `PRAGMA user_version`: 1 records and results in tables, 2 adds
    /// `parent_id` and results in files, 3 the trials of sweeps.
    public static let schemaVersion = 3

    let writer: Mutex<SQLiteConnectionBox>
    private let readers = Mutex<[SQLiteConnectionBox]>([])
    /// A connection that only checkpoints, so that a checkpoint never holds up a write.
    private let checkpointer: Mutex<SQLiteConnectionBox>
    let writes = DispatchQueue(label: "ktrdr.store.writes", qos: .userInitiated)
    /// Finished records never change: the most recent ones are kept decoded (a GET would
    /// otherwise spend most of its time in JSON decoding).
    private let finished = Mutex<(records: [String: (record: OperationRecord, json: [UInt8])], order: [String])>(([:], []))
    static let finishedCacheSize = 4096
    let files: ResultFiles
    public let path: String

    public init(path: String) throws {
        self.path = path
        var st = stat()
        if stat(path, &st) == 0, st.st_size == 0 {
            throw SQLiteError(message: "\(path) is an empty file, not a ktrdr database: restore it from a backup, or move it away to start a new history")
        }
        let db = try SQLiteConnection(path: path)
        do {
            try db.execute("PRAGMA journal_mode=WAL")
            try db.execute("PRAGMA synchronous=NORMAL")
            // Checkpoints run after a result is reported (`checkpoint()`), not inside the write
            // that completes an operation (measured: an automatic checkpoint added ~300 ms there).
            try db.execute("PRAGMA wal_autocheckpoint=0")
            try db.execute("PRAGMA foreign_keys=ON")
            let check = try db.query("PRAGMA quick_check").compactMap { $0.first?.text }
            guard check == ["ok"] else { throw SQLiteError(message: "quick_check: \(check.prefix(3).joined(separator: "; "))") }
        } catch {
            throw SQLiteError(message: "\(path) is not a usable ktrdr database (\(error)): restore it from a backup, or move it away to start a new history")
        }
        try Self.migrate(db, path: path)
        _ = try? db.query("PRAGMA wal_checkpoint(TRUNCATE)")
        writer = Mutex(SQLiteConnectionBox(db))
        checkpointer = Mutex(SQLiteConnectionBox(try SQLiteConnection(path: path)))
        files = try ResultFiles(directory: (path as NSString).deletingLastPathComponent + "/results")
        try removeOrphanFiles()
    }

    /// Brings the schema to `schemaVersion`, one step per version, each in a transaction.
    static func migrate(_ db: SQLiteConnection, path: String) throws {
        let version = Int(try db.query("PRAGMA user_version").first?.first?.int ?? 0)
        guard version <= schemaVersion else {
            throw SQLiteError(message: "\(path) has schema version \(version), newer than this ktrdrd's \(schemaVersion): run a newer ktrdrd or use another KTRDR_HOME")
        }
        if version < 1 {
            try db.transaction {
                try db.execute("""
                    CREATE TABLE IF NOT EXISTS operations (
                        id TEXT PRIMARY KEY, type TEXT NOT NULL, status TEXT NOT NULL,
                        created_at TEXT NOT NULL, record TEXT NOT NULL);
                    CREATE INDEX IF NOT EXISTS operations_created ON operations(created_at);
                    CREATE TABLE IF NOT EXISTS results (
                        id TEXT PRIMARY KEY REFERENCES operations(id) ON DELETE CASCADE,
                        summary TEXT NOT NULL, trades TEXT NOT NULL,
                        curve_time BLOB NOT NULL, curve_equity BLOB NOT NULL, curve_drawdown BLOB NOT NULL, curve_position BLOB NOT NULL);
                    PRAGMA user_version = 1;
                    """)
            }
        }
        if version < 2 {
            try db.transaction {
                try db.execute("""
                    ALTER TABLE operations ADD COLUMN parent_id TEXT;
                    CREATE INDEX IF NOT EXISTS operations_parent ON operations(parent_id, created_at);
                    CREATE INDEX IF NOT EXISTS operations_status ON operations(status);
                    CREATE TABLE IF NOT EXISTS result_files (
                        id TEXT PRIMARY KEY REFERENCES operations(id) ON DELETE CASCADE,
                        summary TEXT NOT NULL, file TEXT, data BLOB, bytes INTEGER NOT NULL, sha256 TEXT NOT NULL);
                    PRAGMA user_version = 2;
                    """)
            }
        }
        if version < 3 {
            try db.transaction {
                try db.execute("""
                    CREATE TABLE IF NOT EXISTS sweep_trials (
                        sweep_id TEXT NOT NULL REFERENCES operations(id) ON DELETE CASCADE,
                        idx INTEGER NOT NULL, trial TEXT NOT NULL, PRIMARY KEY(sweep_id, idx)) WITHOUT ROWID;
                    PRAGMA user_version = 3;
                    """)
            }
        }
    }

    static let encoder = KtrdrJSON.encoder()
    static let decoder = KtrdrJSON.decoder()

    // MARK: Writes (one queue, in order)

    /// Writes a record now, from a thread that may block.
    public func save(_ record: OperationRecord) throws {
        try writes.sync { try self.write(record) }
    }

    /// Writes a record on the store's queue and waits for it without blocking a thread.
    public func saveAsync(_ record: OperationRecord) async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, Error>) in
            writes.async {
                do { try self.write(record); c.resume() } catch { c.resume(throwing: error) }
            }
        }
    }

    /// Queues a write after every earlier one; `done` gets its outcome.
    public func enqueueSave(_ record: OperationRecord, done: @escaping @Sendable ((any Error)?) -> Void) {
        writes.async {
            do { try self.write(record); done(nil) } catch { done(error) }
        }
    }

    private func remember(_ record: OperationRecord, json: [UInt8]) {
        guard record.status.isTerminal else { return }
        finished.withLock { f in
            if f.records.updateValue((record, json), forKey: record.operationId) == nil { f.order.append(record.operationId) }
            if f.order.count > Self.finishedCacheSize {
                for id in f.order.prefix(f.order.count / 4) { f.records[id] = nil }
                f.order.removeFirst(f.order.count / 4)
            }
        }
    }

    private func write(_ record: OperationRecord) throws {
        let bytes = [UInt8](try Self.encoder.encode(record))
        let json = String(decoding: bytes, as: UTF8.self)
        _ = try writer.withLock { box in
            try box.db.query("""
                INSERT INTO operations(id, type, status, created_at, record, parent_id) VALUES(?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET status = excluded.status, record = excluded.record
                """, [.text(record.operationId), .text(record.operationType.rawValue), .text(record.status.rawValue),
                      .text(record.createdAt), .text(json), record.parentId.map { .text($0) } ?? .null])
        }
        remember(record, json: bytes)
    }

    /// Compressed results up to this size stay in their row (a file and two fsyncs would cost
    /// a tiny backtest more than computing it); larger ones go to a file.
    static let inlineLimit = 64 << 10

    /// Stores a completed backtest's result, compressed on the calling thread. A large one is
    /// written to its file (fsync, rename) before a small row names it; a crash in between
    /// leaves an unreferenced file, removed at the next start.
    public func saveResult(_ id: String, _ result: BacktestResult) throws {
        let summary = String(decoding: try Self.encoder.encode(ResultHeader(result)), as: UTF8.self)
        var tradesJSON = FastJSON(capacity: result.trades.count * 320)
        tradesJSON.array(result.trades) { $0.trade($1) }
        try storeResult(id, summary: summary, bytes: try ResultFile.encode(tradesJSON: tradesJSON.bytes, curve: result.equityCurve))
    }

    /// Writes an encoded result (file or row) under `id`.
    func storeResult(_ id: String, summary: String, bytes: [UInt8]) throws {
        let inline = bytes.count <= Self.inlineLimit
        let name = ResultFiles.name(id)
        if !inline { try files.write(name, bytes) }
        do {
            try writes.sync {
                _ = try writer.withLock { box in
                    try box.db.query("INSERT OR REPLACE INTO result_files(id, summary, file, data, bytes, sha256) VALUES(?, ?, ?, ?, ?, ?)",
                                     [.text(id), .text(summary), inline ? .null : .text(name), inline ? .blob(bytes) : .null,
                                      .int(Int64(bytes.count)), .text(Checksum.sha256(bytes))])
                }
            }
        } catch {
            if !inline { files.remove(name) }
            throw error
        }
    }

    /// Operations left `pending` or `running` by a daemon that died become `failed/interrupted`.
    /// Sweeps are not: their finished trials are kept, and they are returned to be resumed; nor
    /// are remote backtests running on a worker (returned to be re-adopted).
    public func markInterrupted() throws -> (failed: [String], resumable: [OperationRecord]) {
        let (all, _) = try list(activeOnly: true, limit: 1_000_000)
        // Sweeps resume; remote backtests running on a worker are re-adopted.
        let resumable = all.filter { $0.operationType == .sweep && $0.metadata.sweep != nil || $0.metadata.mode == "remote" && $0.status == .running }
        let records = all.filter { r in !resumable.contains { $0.operationId == r.operationId } }
        for var r in records {
            let was = r.status
            r.status = .failed
            r.completedAt = RecordTime.isoNow()
            r.error = OperationError(code: "interrupted", message: "the daemon stopped while this operation was \(was.rawValue)")
            try save(r)
        }
        return (records.map(\.operationId), resumable)
    }

    /// Deletes finished operations created before `days` days ago, with their result files.
    @discardableResult
    public func applyRetention(days: Int) throws -> Int {
        guard days > 0 else { return 0 }
        let cutoff = RecordTime.iso(Date(timeIntervalSinceNow: -Double(days) * 86_400))
        let old = "SELECT id FROM operations WHERE created_at < ? AND status IN ('completed','failed','cancelled')"
        let (count, names) = try writes.sync {
            try writer.withLock { box in
                try box.db.transaction {
                    let ids = try box.db.query(old, [.text(cutoff)])
                    let names = try box.db.query("SELECT file FROM result_files WHERE id IN (\(old))", [.text(cutoff)]).compactMap { $0.first?.text }
                    try box.db.query("DELETE FROM result_files WHERE id IN (\(old))", [.text(cutoff)])
                    try box.db.query("DELETE FROM results WHERE id IN (\(old))", [.text(cutoff)])
                    try box.db.query("DELETE FROM sweep_trials WHERE sweep_id IN (\(old))", [.text(cutoff)])
                    try box.db.query("DELETE FROM operations WHERE created_at < ? AND status IN ('completed','failed','cancelled')", [.text(cutoff)])
                    return (ids.count, names)
                }
            }
        }
        for name in names { files.remove(name) }
        finished.withLock { $0 = ([:], []) }
        return count
    }

    /// Removes result files no row names (a crash between file and row) and temporary files.
    private func removeOrphanFiles() throws {
        let named = Set(try read { db in try db.query("SELECT file FROM result_files").compactMap { $0.first?.text } })
        for name in files.names() where !named.contains(name) { files.remove(name) }
    }

    /// Moves the WAL into the database file (off the critical path of completions).
    public func checkpoint() {
        _ = try? checkpointer.withLock { try $0.db.query("PRAGMA wal_checkpoint(PASSIVE)") }
    }

    /// Checkpoints and truncates the WAL to zero bytes (when idle: it never grows without bound).
    public func truncateWAL() {
        _ = try? checkpointer.withLock { try $0.db.query("PRAGMA wal_checkpoint(TRUNCATE)") }
    }

    // MARK: Reads (their own connections)

    func read<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        let box = try readers.withLock { $0.popLast() } ?? SQLiteConnectionBox(try SQLiteConnection(path: path, readOnly: true))
        defer { readers.withLock { if $0.count < 4 { $0.append(box) } } }
        return try body(box.db)
    }

    public func record(_ id: String) throws -> OperationRecord? {
        try stored(record: id)?.record
    }

    /// A stored record as the project's JSON (snake_case, sorted keys), ready to serve.
    public func recordJSON(_ id: String) throws -> [UInt8]? {
        try stored(record: id)?.json
    }

    private func stored(record id: String) throws -> (record: OperationRecord, json: [UInt8])? {
        if let hit = finished.withLock({ $0.records[id] }) { return hit }
        let rows = try read { try $0.query("SELECT record FROM operations WHERE id = ?", [.text(id)]) }
        guard let text = rows.first?.first?.text else { return nil }
        let json = Array(text.utf8)
        let record = try Self.decoder.decode(OperationRecord.self, from: Data(json))
        remember(record, json: json)
        return (record, json)
    }

    /// Newest first; `parentId` lists the children of one operation (a sweep's trials).
    public func list(status: OperationStatus? = nil, type: OperationType? = nil, activeOnly: Bool = false, parentId: String? = nil,
                     limit: Int = 100, offset: Int = 0) throws -> (records: [OperationRecord], total: Int) {
        var clauses = [String](), params = [SQLiteValue]()
        if let status { clauses.append("status = ?"); params.append(.text(status.rawValue)) }
        if let type { clauses.append("type = ?"); params.append(.text(type.rawValue)) }
        if let parentId { clauses.append("parent_id = ?"); params.append(.text(parentId)) }
        if activeOnly { clauses.append("status IN ('pending', 'running')") }
        let whereSQL = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        let (rows, total) = try read { db in
            let total = try db.query("SELECT COUNT(*) FROM operations \(whereSQL)", params).first?.first?.int ?? 0
            let rows = try db.query("SELECT record FROM operations \(whereSQL) ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
                                    params + [.int(Int64(limit)), .int(Int64(offset))])
            return (rows, total)
        }
        let records = try rows.compactMap { $0.first?.text }.map { try Self.decoder.decode(OperationRecord.self, from: Data($0.utf8)) }
        return (records, Int(total))
    }

    /// Stored operations by status, counted by the database (exact at any history size).
    public func countsByStatus() throws -> [OperationStatus: Int] {
        let rows = try read { try $0.query("SELECT status, COUNT(*) FROM operations GROUP BY status") }
        var out: [OperationStatus: Int] = [:]
        for row in rows { if let s = row.first?.text.flatMap(OperationStatus.init(rawValue:)), let n = row.last?.int { out[s] = Int(n) } }
        return out
    }

    /// A result's header, trades (JSON) and curve, from its file or from a schema-1 row.
    private func stored(_ id: String) throws -> (header: String, trades: [UInt8], curve: EquityCurve)? {
        if let row = try read({ try $0.query("SELECT summary, file, data, sha256 FROM result_files WHERE id = ?", [.text(id)]) }).first,
           let summary = row[0].text, let sha = row[3].text {
            let contents: ResultFile.Contents
            if let name = row[1].text {
                contents = try ResultFile.decode(try files.read(name, sha256: sha), file: files.path(name))
            } else {
                let bytes = row[2].blob ?? []
                guard Checksum.sha256(bytes) == sha else { throw SQLiteError(message: "\(path): result of \(id): checksum mismatch (the row is damaged)") }
                contents = try ResultFile.decode(bytes, file: "\(path) (result of \(id))")
            }
            return (summary, contents.tradesJSON, contents.curve)
        }
        let rows = try read { try $0.query("SELECT * FROM results WHERE id = ?", [.text(id)]) }
        guard let row = rows.first, row.count == 7, let summary = row[1].text, let trades = row[2].text else { return nil }
        let curve = EquityCurve(timestamps: Self.values(row[3].blob ?? []), equity: Self.values(row[4].blob ?? []),
                                drawdownPct: Self.values(row[5].blob ?? []), position: Self.values(row[6].blob ?? []))
        return (summary, Array(trades.utf8), curve)
    }

    public func result(_ id: String) throws -> BacktestResult? {
        guard let (summary, trades, curve) = try stored(id) else { return nil }
        let header = try Self.decoder.decode(ResultHeader.self, from: Data(summary.utf8))
        let tradeList = try Self.decoder.decode([Trade].self, from: Data(trades))
        return header.result(trades: tradeList, curve: curve)
    }

    /// The stored result as JSON, assembled from its stored parts without decoding the trades
    /// (the API's fast path); `includeCurve: false` leaves the curve's arrays empty.
    public func resultJSON(_ id: String, includeCurve: Bool) throws -> [UInt8]? {
        guard let (summary, trades, curve) = try stored(id) else { return nil }
        var w = FastJSON(capacity: summary.utf8.count + trades.count + (includeCurve ? curve.equity.count * 80 : 0) + 256)
        w.raw(Array(summary.utf8.dropLast()))  // the header object, reopened
        w.raw(",\"trades\":")
        w.raw(trades)
        w.raw(",\"equity_curve\":")
        w.curve(includeCurve ? curve : EquityCurve.empty)
        w.raw("}")
        return w.bytes
    }

    /// Bytes of the database, its WAL and the result files (for benchmarks and `/health`).
    public func diskUsage() -> (database: Int, wal: Int, results: Int) {
        func size(_ p: String) -> Int { var st = stat(); return stat(p, &st) == 0 ? Int(st.st_size) : 0 }
        return (size(path), size(path + "-wal"), files.names().reduce(0) { $0 + size(files.path($1)) })
    }

    public func integrityCheck() throws -> String {
        try read { try $0.query("PRAGMA integrity_check").first?.first?.text ?? "?" }
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

/// A connection, made sendable by living inside a mutex or a pool.
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
    var warnings: [String]?

    init(_ r: BacktestResult) {
        strategy = r.strategy; symbol = r.symbol; timeframe = r.timeframe; start = r.start; end = r.end
        bars = r.bars; warmupBars = r.warmupBars; settings = r.settings; metrics = r.metrics
        warnings = r.warnings
    }

    func result(trades: [Trade], curve: EquityCurve) -> BacktestResult {
        BacktestResult(strategy: strategy, symbol: symbol, timeframe: timeframe, start: start, end: end, bars: bars,
                       warmupBars: warmupBars, settings: settings, metrics: metrics, trades: trades, equityCurve: curve,
                       warnings: warnings)
    }
}
