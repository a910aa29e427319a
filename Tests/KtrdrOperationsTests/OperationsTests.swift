import Foundation
import KtrdrAPI
import KtrdrCore
import KtrdrPlugins
import KtrdrTestSupport
import Logging
import Synchronization
import XCTest
import KtrdrFiles

@testable import KtrdrOperations

/// The operations layer against a real SQLite file and the real data and strategy files.
final class OperationsTests: XCTestCase {
    var dir = ""
    static let root = TestPaths.root

    /// The plugins `swift build` put next to this test binary (the daemon's default too).
    static let plugins: PluginHost = {
        let host = PluginHost(directory: TestPaths.builtPlugins)
        host.reload()
        return host
    }()

    override func setUp() { dir = TestPaths.temporaryDirectory("ktrdr-ops") }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func manager(maxConcurrent: Int = 2, data: String? = nil) throws -> OperationManager {
        let store = try OperationStore(path: dir + "/ktrdr.db")
        return OperationManager(store: store, config: OperationsConfig(dataDirectory: data ?? Self.root + "/data", strategiesDirectory: Self.root + "/strategies",
                                                                       strategies: StrategyProvider(plugins: Self.plugins, models: ModelStore(root: Self.root + "/models", plugins: Self.plugins)),
                                                                       maxConcurrent: maxConcurrent), logger: Logger(label: "test"))
    }

    func wait(_ m: OperationManager, _ id: String, timeout: Double = 20) async throws -> OperationRecord {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while Date() < deadline {
            let r = try await m.get(id)
            if r.status.isTerminal { return r }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        throw ApiError(status: 500, code: "timeout", message: "operation did not finish")
    }

    func testBacktestCompletesAndItsResultIsStoredExactly() async throws {
        let m = try manager()
        var p = StartRequest(strategyName: "sma_crossover", symbol: "GOOG", timeframe: "1d")
        p.commission = 0.001
        p.slippage = 0
        let started = try await m.startBacktest(p)
        XCTAssertTrue(OperationRecord.isValidId(started.operationId))
        let done = try await wait(m, started.operationId)
        XCTAssertEqual(done.status, .completed)
        XCTAssertEqual(done.progress.percentage, 100)
        XCTAssertEqual(done.progress.itemsProcessed, 2148)
        XCTAssertEqual(done.resultSummary?.totalTrades, 33)
        let result = try await m.result(started.operationId)
        XCTAssertEqual("\(result.metrics.finalEquity)", "545054.3120499998")
        XCTAssertEqual(result.trades.count, 33)
        XCTAssertEqual(result.equityCurve.equity.count, 2148)
        // A second store on the same file (a restart) reads the same bits.
        let reopened = try OperationStore(path: dir + "/ktrdr.db")
        let again = try XCTUnwrap(try reopened.result(started.operationId))
        XCTAssertEqual(again.equityCurve, result.equityCurve)
        XCTAssertEqual(again.trades, result.trades)
        XCTAssertEqual(try reopened.record(started.operationId), done)
        XCTAssertEqual(try reopened.integrityCheck(), "ok")
    }

    /// The id comes back before the bars are loaded; loading is the operation's first phase,
    /// visible and cancellable; the result equals a run on bars loaded up front.
    func testStartAnswersBeforeLoadingAndLoadingIsAPhase() async throws {
        let data = dir + "/data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        try SyntheticData(bars: 300_000).write(to: data + "/BIG_1m.csv")
        let m = try manager(data: data)
        var p = StartRequest(strategyName: "sma_crossover", symbol: "BIG", timeframe: "1m")
        p.paceBarsPerSecond = 1e12
        let started = try await m.startBacktest(p)
        XCTAssertNil(started.metadata.bars, "not loaded at the start call")
        var phases = Set<String>()
        var record = started
        while !record.status.isTerminal {
            if let phase = record.progress.context.phase { phases.insert(phase) }
            try await Task.sleep(nanoseconds: 1_000_000)
            record = try await m.get(started.operationId)
        }
        XCTAssertEqual(record.status, .completed)
        XCTAssertEqual(record.metadata.bars, 300_000)
        XCTAssertTrue(phases.contains("loading_data"), "loading was observed as a phase")
        let all = try CSVLoader.load(path: data + "/BIG_1m.csv")
        let config = try StrategyLoader.load(path: Self.root + "/strategies/sma_crossover.yaml")
        let strategy = try OperationsConfig(dataDirectory: data, strategiesDirectory: Self.root + "/strategies",
                                            strategies: StrategyProvider(plugins: Self.plugins, models: ModelStore(root: Self.root + "/models", plugins: Self.plugins)))
            .strategies.make(config, file: "", symbol: "BIG", timeframe: .m1, modelPath: nil)
        let direct = try Backtester.run(try Backtester.prepare(BacktestRequest(strategy: config, symbol: "BIG", timeframe: .m1), strategy: strategy,
                                                               dataDirectory: data) { _ throws(KtrdrError) in all })
        let stored = try await m.result(started.operationId)
        XCTAssertEqual(stored.metrics.finalEquity.bitPattern, direct.metrics.finalEquity.bitPattern)
        XCTAssertEqual(stored.trades, direct.trades)
        // Cancelled while loading: ends cancelled, quickly.
        let again = try OperationManager(store: try OperationStore(path: dir + "/other.db"), config: OperationsConfig(
            dataDirectory: data, strategiesDirectory: Self.root + "/strategies",
            strategies: StrategyProvider(plugins: Self.plugins, models: ModelStore(root: Self.root + "/models", plugins: Self.plugins))),
            logger: Logger(label: "test"))
        let second = try await again.startBacktest(p)
        let cancelled = try await again.cancel(second.operationId)
        XCTAssertEqual(cancelled.status, .cancelled)
    }

    func testValidationFailsBeforeAnOperationExists() async throws {
        let m = try manager()
        let cases: [(StartRequest, Int, String)] = [
            (StartRequest(strategyName: "nope", symbol: "GOOG", timeframe: "1d"), 404, "strategy_not_found"),
            (StartRequest(strategyName: "sma_crossover", symbol: "NOPE", timeframe: "1d"), 404, "data_not_found"),
            (StartRequest(strategyName: "sma_crossover", symbol: "../x", timeframe: "1d"), 400, "invalid_name"),
            (StartRequest(strategyName: "sma_crossover", symbol: "GOOG", timeframe: "7d"), 400, "invalid_timeframe"),
            (StartRequest(strategyName: "sma_crossover", symbol: "GOOG", timeframe: "1d", startDate: "2004-08-20"), 422, "insufficient_data"),
        ]
        for (p, status, code) in cases {
            do {
                _ = try await m.startBacktest(p)
                XCTFail("\(code): expected an error")
            } catch {
                XCTAssertEqual(error.status, status, code)
                XCTAssertEqual(error.code, code)
            }
        }
        let listed = try await m.list(status: nil, type: nil, activeOnly: false, limit: 10, offset: 0)
        XCTAssertEqual(listed.total, 0)
    }

    func testPendingOperationsWaitInFIFOAndCanBeCancelled() async throws {
        let m = try manager(maxConcurrent: 1)
        var slow = StartRequest(strategyName: "sma_crossover", symbol: "EURUSD", timeframe: "1h")
        slow.paceBarsPerSecond = 2_000  // 5000 bars: 2.5 s
        let a = try await m.startBacktest(slow)
        let b = try await m.startBacktest(StartRequest(strategyName: "sma_crossover", symbol: "GOOG", timeframe: "1d"))
        let c = try await m.startBacktest(StartRequest(strategyName: "sma_crossover", symbol: "GOOG", timeframe: "1d"))
        let bState = try await m.get(b.operationId).status
        XCTAssertEqual(bState, .pending)
        let cancelled = try await m.cancel(b.operationId)
        XCTAssertEqual(cancelled.status, .cancelled)
        let first = try await m.cancel(a.operationId)
        XCTAssertEqual(first.status, .cancelled)
        let third = try await wait(m, c.operationId)
        XCTAssertEqual(third.status, .completed)
        do {
            _ = try await m.cancel(c.operationId)
            XCTFail("cancelling a completed operation must be a conflict")
        } catch {
            XCTAssertEqual(error.status, 409)
        }
        let again = try await m.cancel(b.operationId)  // idempotent
        XCTAssertEqual(again.status, .cancelled)
    }

    func testInterruptedOperationsAreMarkedFailedAtStart() throws {
        let store = try OperationStore(path: dir + "/ktrdr.db")
        var r = OperationRecord(operationId: OperationRecord.newId(type: .backtesting), operationType: .backtesting, status: .running,
                                createdAt: "2026-01-01T00:00:00.000Z", progress: OperationProgress(),
                                metadata: OperationMetadata(parameters: StartRequest(strategyName: "s", symbol: "X", timeframe: "1d")))
        try store.save(r)
        r.operationId = OperationRecord.newId(type: .backtesting)
        r.status = .completed
        try store.save(r)
        let marked = try OperationStore(path: dir + "/ktrdr.db").markInterrupted().failed
        XCTAssertEqual(marked.count, 1)
        let again = try XCTUnwrap(try store.record(marked[0]))
        XCTAssertEqual(again.status, .failed)
        XCTAssertEqual(again.error?.code, "interrupted")
        XCTAssertEqual(try store.record(r.operationId)?.status, .completed)
        XCTAssertEqual(try store.applyRetention(days: 1), 2)
    }

    func testProgressBridgeSamplesAndVersions() {
        let bridge = ProgressBridge(totalBars: 10_000)
        for done in stride(from: 2048, through: 10_000, by: 2048) {
            bridge.write(BacktestProgress(barsDone: done, barsTotal: 10_000, currentTime: Int64(done), equity: 1, pnl: 0, tradesClosed: 0, winningTrades: 0))
        }
        XCTAssertEqual(bridge.latest.version, 4)
        XCTAssertEqual(bridge.latest.progress?.barsDone, 8192)
        let (all, next) = bridge.samples(from: 0)
        XCTAssertEqual(all.map(\.bar), [2048, 4096, 6144, 8192])
        XCTAssertEqual(next, 4)
        XCTAssertTrue(bridge.samples(from: next).samples.isEmpty)
    }
}

final class DataCacheTests: XCTestCase {
    func testHitsMissesInvalidationAndEviction() throws {
        let dir = NSTemporaryDirectory() + "ktrdr-cache-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = dir + "/A_1m.csv", b = dir + "/B_1m.csv"
        try SyntheticData(bars: 1000).write(to: a)
        try SyntheticData(bars: 1000, seed: 7).write(to: b)
        let cache = DataCache(capacityBytes: 1000 * 48 + 10)  // room for one file
        let first = try cache.load(a)
        XCTAssertEqual(try cache.load(a), first)
        XCTAssertEqual(cache.stats.hits, 1)
        XCTAssertEqual(cache.stats.misses, 1)
        _ = try cache.load(b)  // evicts A
        XCTAssertEqual(cache.stats.files, 1)
        _ = try cache.load(a)
        XCTAssertEqual(cache.stats.misses, 3)
        // An edited file is re-read, not served stale.
        Thread.sleep(forTimeInterval: 0.01)
        try SyntheticData(bars: 500).write(to: a)
        XCTAssertEqual(try cache.load(a).count, 500)
        XCTAssertThrowsError(try cache.load(dir + "/missing.csv")) { error in
            XCTAssertEqual((error as? KtrdrError)?.code, "data_not_found")
        }
    }
}

final class DataCacheConcurrencyTests: XCTestCase {
    var dir = ""
    override func setUp() { dir = TestPaths.temporaryDirectory("ktrdr-cache") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func testConcurrentLoadsOfOneFileParseItOnce() throws {
        let path = dir + "/S_1m.csv"
        try SyntheticData(bars: 200_000).write(to: path)
        let cache = DataCache(capacityBytes: 1 << 30)
        let results = Mutex<[Int]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            let n = (try? cache.load(path).count) ?? -1
            results.withLock { $0.append(n) }
        }
        XCTAssertEqual(results.withLock { $0 }, Array(repeating: 200_000, count: 8))
        XCTAssertEqual(cache.stats.parses, 1, "one parse for eight concurrent loads")
    }

    func testAnEditThatKeepsSizeAndMtimeIsStillSeen() throws {
        let path = dir + "/S_1m.csv"
        try SyntheticData(bars: 1_000, seed: 1).write(to: path)
        let cache = DataCache(capacityBytes: 1 << 30)
        let before = try cache.load(path)
        var st = stat()
        stat(path, &st)
        // Same size, other prices (cp -p / rsync -t keep size and mtime), mtime put back.
        var text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        text = lines.enumerated().map { i, l in
            guard i == 5, let last = l.last else { return String(l) }
            return String(l.dropLast()) + (last == "1" ? "2" : "1")  // the volume's last digit
        }.joined(separator: "\n")
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        var times = [st.st_atim, st.st_mtim]
        XCTAssertEqual(utimensat(AT_FDCWD, path, &times, 0), 0)
        var after = stat()
        stat(path, &after)
        XCTAssertEqual(after.st_size, st.st_size)
        XCTAssertEqual(after.st_mtim.tv_nsec, st.st_mtim.tv_nsec)
        XCTAssertNotEqual(try cache.load(path), before, "the edited file is re-read")
    }
}
