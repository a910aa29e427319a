import Foundation
import Hummingbird
import HummingbirdTesting
import KtrdrAPI
import KtrdrClient
import KtrdrCore
import KtrdrOperations
import KtrdrPlugins
import KtrdrTestSupport
import Logging
import XCTest

@testable import KtrdrServer

/// The worker protocol in process: a real worker application on a loopback port, and a
/// server's operations layer dispatching to it (the multi-host faults are scenarios B3.x, RW*).
final class RemoteTests: XCTestCase {
    var dir = ""
    static let token = "worker-token-for-tests"
    override func setUp() { dir = TestPaths.temporaryDirectory("ktrdr-remote") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    static func config(remote: RemoteConfig? = nil, blobs: String? = nil) throws -> OperationsConfig {
        var c = OperationsConfig(dataDirectory: TestPaths.path("data"), strategiesDirectory: TestPaths.path("strategies"),
                                 strategies: StrategyProvider(plugins: RouteTests.plugins, models: ModelStore(root: TestPaths.path("models"), plugins: RouteTests.plugins)))
        c.remote = remote
        if let blobs { c.blobs = try BlobStore(directory: blobs) }
        return c
    }

    static func worker(_ dir: String) throws -> some ApplicationProtocol {
        try FileManager.default.createDirectory(atPath: dir + "/w", withIntermediateDirectories: true)
        let manager = OperationManager(store: try OperationStore(path: dir + "/w/ktrdr.db"), config: try Self.config(blobs: dir + "/w/blobs"), logger: Logger(label: "worker"))
        var service = ApiService(manager: manager, strategiesDirectory: TestPaths.path("strategies"), version: "test")
        service.role = "worker"
        return HTTPServer.makeApplication(service: service, metrics: DaemonMetrics(), host: "127.0.0.1", port: 0, token: Self.token, logger: Logger(label: "worker"))
    }

    static func wait(_ m: OperationManager, _ id: String) async throws -> OperationRecord {
        for _ in 0..<2000 {
            let r = try await m.get(id)
            if r.status.isTerminal { return r }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        throw ApiError(status: 500, code: "timeout", message: "operation did not finish")
    }

    func testARemoteBacktestEqualsTheLocalOneAndItsResultIsCopied() async throws {
        let dir = self.dir
        try await Self.worker(dir).test(.live) { client in
            let url = "http://127.0.0.1:\(try XCTUnwrap(client.port))"
            var remote = RemoteConfig(workers: [url], remoteByDefault: false, token: Self.token)
            remote.deadlineSeconds = 2
            let server = OperationManager(store: try OperationStore(path: dir + "/server.db"), config: try Self.config(remote: remote), logger: Logger(label: "server"))
            var p = StartRequest(strategyName: "sma_crossover", symbol: "GOOG", timeframe: "1d")
            p.commission = 0.001
            p.slippage = 0
            p.mode = "remote"
            let done = try await Self.wait(server, try await server.startBacktest(p).operationId)
            XCTAssertEqual(done.status, .completed, "\(String(describing: done.error))")
            XCTAssertEqual(done.metadata.mode, "remote")
            XCTAssertEqual(done.metadata.workerUrl, url)
            XCTAssertEqual(done.metadata.attempt, 1)
            XCTAssertEqual(done.resultSummary?.totalTrades, 33)
            // The copy in the server's store is the reference result (TA-Lib-checked elsewhere).
            let result = try await server.result(done.operationId)
            XCTAssertEqual("\(result.metrics.finalEquity)", "545054.3120499998")
            XCTAssertEqual(result.equityCurve.equity.count, 2148)

            // The worker: the data blob is kept under its digest, the lease guards reads.
            let api = try AsyncDaemonClient(url: url, token: Self.token)
            let sha = try Checksum.sha256(file: TestPaths.path("data/GOOG_1d.csv"))
            let health = try await api.health()
            let info = try XCTUnwrap(health.worker)
            XCTAssertEqual(info.blobs, [sha])
            let rid = try XCTUnwrap(done.metadata.remoteOperationId)
            do {
                _ = try await api.operation(rid, lease: "not-the-lease")
                XCTFail("expected a refused lease")
            } catch let error as ClientError { XCTAssertEqual(error.status, 409) }
            let package = try await api.resultPackage(rid, lease: try XCTUnwrap(done.metadata.remoteLease))
            // A damaged package is refused whole.
            var damaged = package
            damaged[damaged.count / 2] ^= 0x01
            XCTAssertThrowsError(try server.store.importResult("op_backtesting_20260101_000000_00000000", package: damaged, origin: "test"))
        }
    }

    func testABlobWhoseBodyDoesNotMatchItsNameIsNotKept() async throws {
        let dir = self.dir
        try await Self.worker(dir).test(.live) { client in
            let api = try AsyncDaemonClient(url: "http://127.0.0.1:\(try XCTUnwrap(client.port))", token: Self.token)
            let body = Array("timestamp,open,high,low,close,volume\n".utf8)
            let wrong = String(repeating: "ab", count: 32)
            do {
                try await api.putBlob(wrong, body)
                XCTFail("expected a digest mismatch")
            } catch let error as ClientError { XCTAssertEqual(error.status, 400) }
            let hasWrong = try await api.hasBlob(wrong)
            XCTAssertFalse(hasWrong)
            let right = Checksum.sha256(body)
            try await api.putBlob(right, body)
            let hasRight = try await api.hasBlob(right)
            XCTAssertTrue(hasRight)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir + "/w/blobs")
            XCTAssertEqual(leftovers, [right + ".csv"], "no partial upload left behind")
            do {
                try await api.putBlob("../../etc/passwd", body)
                XCTFail("expected a refused name")
            } catch let error as ClientError { XCTAssertTrue([400, 404].contains(error.status ?? 0), "\(error)") }
            let anonymous = try AsyncDaemonClient(url: "http://127.0.0.1:\(try XCTUnwrap(client.port))")
            do {
                try await anonymous.putBlob(right, body)
                XCTFail("expected unauthorized")
            } catch let error as ClientError { XCTAssertEqual(error.status, 401) }
        }
    }
}
