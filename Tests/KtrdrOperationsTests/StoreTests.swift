import Foundation
import KtrdrAPI
import KtrdrCore
import KtrdrTestSupport
import XCTest
import KtrdrFiles

@testable import KtrdrOperations

/// The store on real SQLite files and real result files: exact round trips, damage, schema
/// migration, counts, retention.
final class StoreTests: XCTestCase {
    var dir = ""

    override func setUp() { dir = TestPaths.temporaryDirectory("ktrdr-store") }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    static func record(_ status: OperationStatus, parent: String? = nil, created: String = "2026-01-01T00:00:00.000Z") -> OperationRecord {
        var r = OperationRecord(operationId: OperationRecord.newId(type: .backtesting), operationType: .backtesting, status: status,
                                createdAt: created, progress: OperationProgress(),
                                metadata: OperationMetadata(parameters: StartRequest(strategyName: "s", symbol: "X", timeframe: "1d")))
        r.parentId = parent
        return r
    }

    /// A curve with flat stretches, moves, irregular time steps, shorts and a negative zero.
    static func curve(_ n: Int, seed: UInt64 = 1) -> EquityCurve {
        var rng = SplitMix64(seed: seed)
        var t: Int64 = 1_600_000_000, e = 100_000.0
        var times = [Int64](), equity = [Double](), position = [Double]()
        for i in 0..<n {
            t += rng.next() % 5 == 0 ? 120 : 60
            let holding = (i / 50) % 3
            if holding != 0 { e *= 1 + (Double(rng.next() % 2001) - 1000) * 1e-6 }
            times.append(t)
            equity.append(e)
            position.append(holding == 0 ? (i % 7 == 0 ? -0.0 : 0) : holding == 1 ? 12.5 : -3.25)
        }
        return EquityCurve(timestamps: times, equity: equity, drawdownPct: EquityCurve.drawdown(equity), position: position)
    }

    func bits(_ v: [Double]) -> [UInt64] { v.map(\.bitPattern) }

    func testResultFileRoundTripsEveryBit() throws {
        let c = Self.curve(50_000)
        let trades = Array("[{\"trade_id\":1}]".utf8)
        let decoded = try ResultFile.decode(try ResultFile.encode(tradesJSON: trades, curve: c), file: "t")
        XCTAssertEqual(decoded.tradesJSON, trades)
        XCTAssertEqual(decoded.curve.timestamps, c.timestamps)
        XCTAssertEqual(bits(decoded.curve.equity), bits(c.equity))
        XCTAssertEqual(bits(decoded.curve.position), bits(c.position))
        XCTAssertEqual(bits(decoded.curve.drawdownPct), bits(c.drawdownPct))
        // A drawdown that is not the equity's own is stored, not recomputed.
        var odd = c
        odd.drawdownPct[17] = 42
        let stored = try ResultFile.decode(try ResultFile.encode(tradesJSON: [], curve: odd), file: "t")
        XCTAssertEqual(bits(stored.curve.drawdownPct), bits(odd.drawdownPct))
        // Empty curves too.
        XCTAssertEqual(try ResultFile.decode(try ResultFile.encode(tradesJSON: [], curve: .empty), file: "t").curve, .empty)
    }

    func testResultIsStoredInAFileAndADamagedFileIsRefused() throws {
        let store = try OperationStore(path: dir + "/ktrdr.db")
        let r = Self.record(.running)
        try store.save(r)
        let curve = Self.curve(100_000)
        let result = BacktestResult(strategy: "s", symbol: "X", timeframe: "1m", start: "a", end: "b", bars: curve.equity.count, warmupBars: 0,
                                    settings: ExecutionSettings(), metrics: .zero, trades: [], equityCurve: curve)
        try store.saveResult(r.operationId, result)
        // A small result stays in its row: no file, the same bits back.
        let small = Self.record(.running)
        try store.save(small)
        var tiny = result
        tiny.equityCurve = Self.curve(500)
        try store.saveResult(small.operationId, tiny)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/results/" + ResultFiles.name(small.operationId)))
        XCTAssertEqual(try XCTUnwrap(try store.result(small.operationId)).equityCurve, tiny.equityCurve)
        let file = dir + "/results/" + ResultFiles.name(r.operationId)
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: file)[.size] as? Int)
        XCTAssertLessThan(size, curve.equity.count * 32 / 3, "compressed below a third of the raw columns")
        XCTAssertEqual(try XCTUnwrap(try store.result(r.operationId)).equityCurve, curve)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int, 0o600)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: file))
        XCTAssertThrowsError(try store.result(r.operationId)) { XCTAssertTrue("\($0)".contains("checksum mismatch"), "\($0)") }
    }

    func testSchemaOneDatabaseIsMigratedAndItsResultsStillRead() throws {
        let path = dir + "/ktrdr.db"
        let r = Self.record(.completed)
        do {  // a database as the previous release wrote it
            let db = try SQLiteConnection(path: path)
            try db.execute("""
                PRAGMA journal_mode=WAL;
                CREATE TABLE operations (id TEXT PRIMARY KEY, type TEXT NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL, record TEXT NOT NULL);
                CREATE TABLE results (id TEXT PRIMARY KEY REFERENCES operations(id) ON DELETE CASCADE, summary TEXT NOT NULL, trades TEXT NOT NULL,
                    curve_time BLOB NOT NULL, curve_equity BLOB NOT NULL, curve_drawdown BLOB NOT NULL, curve_position BLOB NOT NULL);
                """)
            let json = String(decoding: try KtrdrJSON.encoder().encode(r), as: UTF8.self)
            try db.query("INSERT INTO operations VALUES(?, ?, ?, ?, ?)", [.text(r.operationId), .text("backtesting"), .text("completed"), .text(r.createdAt), .text(json)])
            let header = "{\"strategy\":\"s\",\"symbol\":\"X\",\"timeframe\":\"1d\",\"start\":\"a\",\"end\":\"b\",\"bars\":2,\"warmup_bars\":0,"
                + "\"settings\":" + String(decoding: try KtrdrJSON.encoder().encode(ExecutionSettings()), as: UTF8.self)
                + ",\"metrics\":" + String(decoding: try KtrdrJSON.encoder().encode(Metrics.zero), as: UTF8.self) + "}"
            func blob<T>(_ v: [T]) -> SQLiteValue { .blob(v.withUnsafeBytes { Array($0) }) }
            try db.query("INSERT INTO results VALUES(?, ?, ?, ?, ?, ?, ?)", [.text(r.operationId), .text(header), .text("[]"),
                                                                          blob([Int64(1), 2]), blob([1.0, 2.0]), blob([0.0, 0.0]), blob([0.0, 1.0])])
        }
        let store = try OperationStore(path: path)
        XCTAssertEqual(try store.record(r.operationId), r)
        let legacy = try XCTUnwrap(try store.result(r.operationId))
        XCTAssertEqual(legacy.equityCurve.equity, [1, 2])
        XCTAssertEqual(legacy.equityCurve.timestamps, [1, 2])
        let version = try SQLiteConnection(path: path).query("PRAGMA user_version").first?.first?.int
        XCTAssertEqual(version, Int64(OperationStore.schemaVersion))
        let child = Self.record(.pending, parent: r.operationId)
        try store.save(child)
        XCTAssertEqual(try store.list(parentId: r.operationId).records.map(\.operationId), [child.operationId])
    }

    func testNewerSchemaEmptyFileAndDamageAreRefusedWithTheirReason() throws {
        let newer = dir + "/newer.db"
        try SQLiteConnection(path: newer).execute("PRAGMA user_version = 99")
        XCTAssertThrowsError(try OperationStore(path: newer)) { XCTAssertTrue("\($0)".contains("schema version 99, newer"), "\($0)") }
        let empty = dir + "/empty.db"
        FileManager.default.createFile(atPath: empty, contents: Data())
        XCTAssertThrowsError(try OperationStore(path: empty)) { XCTAssertTrue("\($0)".contains("empty file"), "\($0)") }
        let junk = dir + "/junk.db"
        try Data(repeating: 0x41, count: 8192).write(to: URL(fileURLWithPath: junk))
        XCTAssertThrowsError(try OperationStore(path: junk)) { XCTAssertTrue("\($0)".contains("junk.db"), "\($0)") }
    }

    func testCountsAreExactPastAThousandOperations() throws {
        let store = try OperationStore(path: dir + "/ktrdr.db")
        let plan: [(OperationStatus, Int)] = [(.completed, 1_300), (.failed, 150), (.cancelled, 60), (.pending, 3)]
        for (status, n) in plan { for _ in 0..<n { try store.save(Self.record(status)) } }
        let counts = try store.countsByStatus()
        for (status, n) in plan { XCTAssertEqual(counts[status], n, status.rawValue) }
        XCTAssertNil(counts[.running])
    }

    func testInterruptedMessageNamesTheStateTheOperationWasIn() throws {
        let store = try OperationStore(path: dir + "/ktrdr.db")
        let pending = Self.record(.pending), running = Self.record(.running)
        try store.save(pending)
        try store.save(running)
        XCTAssertEqual(Set(try store.markInterrupted().failed), [pending.operationId, running.operationId])
        XCTAssertEqual(try store.record(pending.operationId)?.error?.message, "the daemon stopped while this operation was pending")
        XCTAssertEqual(try store.record(running.operationId)?.error?.message, "the daemon stopped while this operation was running")
    }

    func testRetentionRemovesResultFilesAndStartRemovesOrphans() throws {
        let store = try OperationStore(path: dir + "/ktrdr.db")
        let old = Self.record(.completed), recent = Self.record(.completed, created: "2999-01-01T00:00:00.000Z")
        let result = BacktestResult(strategy: "s", symbol: "X", timeframe: "1m", start: "a", end: "b", bars: 10, warmupBars: 0,
                                    settings: ExecutionSettings(), metrics: .zero, trades: [], equityCurve: Self.curve(100_000))
        for r in [old, recent] {
            try store.save(r)
            try store.saveResult(r.operationId, result)
        }
        XCTAssertEqual(try store.applyRetention(days: 1), 1)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/results")
        XCTAssertEqual(files, [ResultFiles.name(recent.operationId)])
        FileManager.default.createFile(atPath: dir + "/results/op_backtesting_x.ktres", contents: Data([1]))
        FileManager.default.createFile(atPath: dir + "/results/.half.tmp", contents: Data([1]))
        _ = try OperationStore(path: dir + "/ktrdr.db")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/results"), [ResultFiles.name(recent.operationId)])
    }
}

extension Metrics {
    /// All zero (decoded, as the memberwise initialiser is internal to the core).
    static let zero: Metrics = try! KtrdrJSON.decoder().decode(Metrics.self, from: Data("""
        {"initial_capital":0,"final_equity":0,"total_return":0,"total_return_pct":0,"max_drawdown_pct":0,"max_drawdown":0,
         "max_drawdown_duration":0,"total_trades":0,"winning_trades":0,"losing_trades":0,"exposure_pct":0,
         "buy_and_hold_return_pct":0,"bars_per_year":252}
        """.utf8))
}
