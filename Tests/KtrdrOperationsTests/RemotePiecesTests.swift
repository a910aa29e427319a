import Foundation
import KtrdrAPI
import KtrdrCore
import KtrdrPlugins
import KtrdrTestSupport
import XCTest

@testable import KtrdrOperations

/// The pieces of remote execution that need no network: the trial queue shared by the
/// server's threads and the workers' batches, and the checks on a result package.
final class RemotePiecesTests: XCTestCase {
    func testTheTrialQueueGivesEveryIndexOnceAndTakesBackALostBatch() {
        let q = TrialQueue([0, 1, 2, 3, 4, 5, 6])
        let a = q.take(3), b = q.take(3)
        XCTAssertEqual(a, [0, 1, 2])
        XCTAssertEqual(b, [3, 4, 5])
        q.giveBack(b)  // the worker that took b is lost
        XCTAssertFalse(q.drained)
        q.finished(a.count)
        let c = q.take(10)
        XCTAssertEqual(c.sorted(), [3, 4, 5, 6], "given back first, then the rest; nothing twice")
        XCTAssertEqual(q.take(1), [])
        XCTAssertFalse(q.drained, "taken but not finished")
        q.finished(c.count)
        XCTAssertTrue(q.drained)
    }

    func testAResultPackageRoundTripsAndADamagedOneIsRefused() throws {
        let dir = TestPaths.temporaryDirectory("ktrdr-package")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let worker = try OperationStore(path: dir + "/worker.db"), server = try OperationStore(path: dir + "/server.db")
        let record = StoreTests.record(.completed)
        let id = record.operationId
        for store in [worker, server] { try store.save(record) }
        let curve = StoreTests.curve(50_000)
        let result = BacktestResult(strategy: "s", symbol: "X", timeframe: "1m", start: "a", end: "b", bars: curve.equity.count, warmupBars: 0,
                                    settings: ExecutionSettings(), metrics: .zero, trades: [], equityCurve: curve)
        try worker.saveResult(id, result)
        let package = try XCTUnwrap(try worker.resultPackage(id))
        try server.importResult(id, package: package, origin: "test")
        let copied = try XCTUnwrap(try server.result(id))
        XCTAssertEqual(copied.equityCurve.equity, curve.equity)
        XCTAssertEqual(copied.equityCurve.timestamps, curve.timestamps)
        XCTAssertEqual(try server.resultPackage(id), package, "the copy is the same bytes")
        for cut in [10, package.count / 2, package.count - 1] {
            var damaged = package
            damaged[cut] ^= 0x40
            XCTAssertThrowsError(try server.importResult(id, package: damaged, origin: "test"), "byte \(cut)")
        }
        XCTAssertThrowsError(try server.importResult(id, package: Array(package.prefix(100)), origin: "test"))
        // A file whose checksum is right but whose section announces another size.
        var file = try XCTUnwrap(try worker.resultPackage(id))
        file.removeLast(64)
        let header = Int(file[8]) | Int(file[9]) << 8 | Int(file[10]) << 16
        let body = Array(file[(16 + header)...])
        XCTAssertNoThrow(try ResultFile.checkLayout(body, file: "test"))
        var wrongCount = body
        wrongCount[ResultFile.magic.count + 1] &+= 1  // the trades section's count
        XCTAssertThrowsError(try ResultFile.checkLayout(wrongCount, file: "test"))
    }
}
