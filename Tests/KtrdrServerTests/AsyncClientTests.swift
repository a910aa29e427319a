import Foundation
import Hummingbird
import HummingbirdTesting
import KtrdrAPI
import KtrdrClient
import KtrdrCore
import KtrdrTestSupport
import XCTest

@testable import KtrdrServer

/// The async client against the real server on a real loopback port (what the daemon will use
/// to drive workers): a reference backtest end to end, errors with their codes, the token.
final class AsyncClientTests: XCTestCase {
    var dir = ""
    override func setUp() { dir = TestPaths.temporaryDirectory("ktrdr-async-client") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func testBacktestEndToEndAndErrors() async throws {
        try await RouteTests.app(dir: dir, token: "t0k").test(.live) { client in
            let port = try XCTUnwrap(client.port)
            let api = try AsyncDaemonClient(url: "http://127.0.0.1:\(port)", token: "t0k")
            let health = try await api.health()
            XCTAssertEqual(health.status, "ok")
            var p = StartRequest(strategyName: "sma_crossover", symbol: "GOOG", timeframe: "1d")
            p.commission = 0.001
            p.slippage = 0
            let started = try await api.startBacktest(p)
            var record = started.data
            for _ in 0..<500 where !record.status.isTerminal {
                try await Task.sleep(nanoseconds: 10_000_000)
                record = try await api.operation(started.operationId)
            }
            XCTAssertEqual(record.status, .completed)
            let result = try await api.results(started.operationId)
            XCTAssertEqual("\(result.metrics.finalEquity)", "545054.3120499998")
            XCTAssertEqual(result.trades.count, 33)
            XCTAssertEqual(result.equityCurve.equity.count, 2148)
            let listed = try await api.list(OperationsQuery(status: "completed", limit: 5))
            XCTAssertEqual(listed.operations.map(\.operationId), [started.operationId])
            do {
                _ = try await api.operation("op_backtesting_20990101_000000_deadbeef")
                XCTFail("expected operation_not_found")
            } catch let error as ClientError {
                XCTAssertEqual(error.code, "operation_not_found")
                XCTAssertEqual(error.status, 404)
            }
            do {
                _ = try await api.cancel(started.operationId)
                XCTFail("expected operation_finished")
            } catch let error as ClientError {
                XCTAssertEqual(error.code, "operation_finished")
                XCTAssertEqual(error.status, 409)
            }
            let anonymous = try AsyncDaemonClient(url: "http://127.0.0.1:\(port)")
            do {
                _ = try await anonymous.list()
                XCTFail("expected unauthorized")
            } catch let error as ClientError {
                XCTAssertEqual(error.code, "unauthorized")
            }
        }
    }

    func testAnUnreachableServerIsAClearError() async throws {
        let api = try AsyncDaemonClient(url: "http://127.0.0.1:1")
        do {
            _ = try await api.health()
            XCTFail("expected unreachable")
        } catch let error as ClientError {
            XCTAssertEqual(error.code, "unreachable")
            XCTAssertTrue(error.message.contains("127.0.0.1:1"), error.message)
        }
        XCTAssertThrowsError(try AsyncDaemonClient(url: "https://example.invalid")) { XCTAssertEqual(($0 as? ClientError)?.code, "bad_url") }
    }
}

/// Kept-alive connections: many calls on one connection, and a broken one replaced.
final class ConnectionPoolTests: XCTestCase {
    var dir = ""
    override func setUp() { dir = TestPaths.temporaryDirectory("ktrdr-pool") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func testCallsReuseOneConnectionAndABrokenOneIsReplaced() async throws {
        try await RouteTests.app(dir: dir, token: "t0k").test(.live) { client in
            let url = "http://127.0.0.1:\(try XCTUnwrap(client.port))"
            let pool = try ConnectionPool(url: url)
            var api = try AsyncDaemonClient(url: url, token: "t0k")
            api.pool = pool
            for _ in 0..<50 {
                let health = try await api.health()
                XCTAssertEqual(health.status, "ok")
            }
            let idle = await pool.idleCount
            XCTAssertEqual(idle, 1, "sequential calls share one connection")
            // Errors come back with their codes on a pooled connection too, and it stays usable.
            do {
                _ = try await api.operation("op_backtesting_20990101_000000_deadbeef")
                XCTFail("expected operation_not_found")
            } catch let error as ClientError { XCTAssertEqual(error.code, "operation_not_found") }
            async let a = api.health(), b = api.health(), c = api.health()
            let all = try await [a, b, c]
            XCTAssertEqual(all.map(\.status), ["ok", "ok", "ok"])
            let afterConcurrent = await pool.idleCount
            XCTAssertGreaterThanOrEqual(afterConcurrent, 1)
            XCTAssertLessThanOrEqual(afterConcurrent, 3, "concurrent calls open at most one connection each")
        }
    }
}
