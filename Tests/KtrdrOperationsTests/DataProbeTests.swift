import Foundation
import KtrdrAPI
import KtrdrCore
import KtrdrTestSupport
import XCTest
import KtrdrFiles

@testable import KtrdrOperations

/// The start call's probe against the full parse: for every request, the same answer (the
/// same error text, or none), on files with blank lines, CRLF and a BOM.
final class DataProbeTests: XCTestCase {
    var dir = ""
    override func setUp() { dir = TestPaths.temporaryDirectory("ktrdr-probe") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func write(_ name: String, bars: Int, crlf: Bool = false, bom: Bool = false, blanks: Bool = false) throws -> (String, Bars) {
        let path = dir + "/" + name
        try SyntheticData(bars: bars, seed: 3).write(to: path)
        var text = try String(contentsOfFile: path, encoding: .utf8)
        if blanks { text = text.split(separator: "\n").enumerated().map { $0.offset % 97 == 5 ? String($0.element) + "\n" : String($0.element) }.joined(separator: "\n") + "\n" }
        if crlf { text = text.replacingOccurrences(of: "\n", with: "\r\n") }
        if bom { text = "\u{FEFF}" + text }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return (path, try CSVLoader.load(path: path))
    }

    func outcome(_ body: () throws(KtrdrError) -> Void) -> String {
        do throws(KtrdrError) { try body(); return "ok" } catch { return "\(error)" }
    }

    func testProbeAnswersExactlyAsTheFullParse() throws {
        let config = try StrategyLoader.load(path: OperationsTests.root + "/strategies/sma_crossover.yaml")
        var rng = SplitMix64(seed: 11)
        for (name, crlf, bom, blanks) in [("A_1m.csv", false, false, false), ("B_1m.csv", true, true, true), ("C_1m.csv", false, false, true)] {
            let (path, all) = try write(name, bars: 3_000, crlf: crlf, bom: bom, blanks: blanks)
            let t0 = all.timestamps.first!, t1 = all.timestamps.last!
            var checked = 0
            for _ in 0..<400 {
                var request = BacktestRequest(strategy: config, symbol: "A", timeframe: .m1)
                func time() -> Int64 { t0 - 600 + Int64(rng.next() % UInt64(t1 - t0 + 1200)) }
                if rng.next() % 4 != 0 { request.start = time() }
                if rng.next() % 3 != 0 { request.end = time() }
                if let s = request.start, let e = request.end, e < s { continue }
                let warmup = Int(rng.next() % 60)
                let exact = outcome { () throws(KtrdrError) in
                    let first = request.start.map { all.firstIndex(atOrAfter: $0) } ?? 0
                    let last = (request.end.map { all.firstIndex(atOrAfter: $0 + 1) } ?? all.count) - 1
                    try Backtester.checkRange(request, path: path, warmup: warmup, .init(
                        barsBeforeStart: first, barsInRange: max(0, last - first + 1), firstRequestedTime: first < all.count ? all.timestamps[first] : nil,
                        fileSpan: t0...t1))
                }
                let probed = outcome { () throws(KtrdrError) in
                    guard let facts = try DataProbe.facts(path: path, request: request, warmup: warmup) else { throw KtrdrError.invalidRequest("probe gave up") }
                    try Backtester.checkRange(request, path: path, warmup: warmup, facts)
                }
                XCTAssertEqual(probed, exact, "\(name) start \(request.start.map(UTCTime.iso) ?? "-") end \(request.end.map(UTCTime.iso) ?? "-") warmup \(warmup)")
                checked += 1
            }
            XCTAssertGreaterThan(checked, 200)
        }
    }

    func testHeaderDefectsAndMissingFilesAreAnsweredByTheProbe() throws {
        let path = dir + "/X_1m.csv"
        try "time,open,high,low,close,volume\n2020-01-01T00:00:00Z,1,1,1,1,1\n".write(toFile: path, atomically: true, encoding: .utf8)
        let config = try StrategyLoader.load(path: OperationsTests.root + "/strategies/sma_crossover.yaml")
        let request = BacktestRequest(strategy: config, symbol: "X", timeframe: .m1)
        XCTAssertThrowsError(try DataProbe.facts(path: path, request: request, warmup: 1)) { error in
            XCTAssertEqual((error as? KtrdrError)?.code, "data_invalid")
            XCTAssertTrue("\(error)".contains("missing column 'timestamp'"), "\(error)")
        }
        XCTAssertThrowsError(try DataProbe.facts(path: dir + "/none.csv", request: request, warmup: 1)) { error in
            XCTAssertEqual((error as? KtrdrError)?.code, "data_not_found")
        }
    }
}
