import KtrdrCore
import XCTest
import KtrdrFiles

/// Every kind of bad input is an error naming the place (file, line, column or YAML path)
/// and what was expected. Never a crash, never a silent skip.
final class BadInputTests: XCTestCase {
    let header = "timestamp,open,high,low,close,volume\n"
    let good = "2020-01-01T00:00:00Z,1,2,0.5,1.5,10\n"

    func csvError(_ body: String, file: StaticString = #filePath, line: UInt = #line) -> (line: Int, column: String, message: String)? {
        do {
            _ = try CSVLoader.parse(text: body, fileName: "bad.csv")
            XCTFail("expected an error", file: file, line: line)
        } catch let .dataInvalid(name, l, column, message) {
            XCTAssertEqual(name, "bad.csv", file: file, line: line)
            return (l, column, message)
        } catch {
            XCTFail("unexpected \(error)", file: file, line: line)
        }
        return nil
    }

    func testUnparsableNumber() {
        let e = csvError(header + good + "2020-01-02T00:00:00Z,1,2,0.5,abc,10\n")
        XCTAssertEqual(e?.line, 3)
        XCTAssertEqual(e?.column, "close")
        XCTAssertTrue(e?.message.contains("unparsable number 'abc'") == true, e?.message ?? "")
    }

    func testNaNAndInfinityAreRefused() {
        for bad in ["nan", "NaN", "inf", "-inf", "1e999", "0x10"] {
            let e = csvError(header + "2020-01-01T00:00:00Z,1,2,0.5,\(bad),10\n")
            XCTAssertEqual(e?.line, 2, bad)
            XCTAssertEqual(e?.column, "close", bad)
        }
    }

    func testTimestampsMustStrictlyIncrease() {
        let e = csvError(header + good + good)
        XCTAssertEqual(e?.line, 3)
        XCTAssertEqual(e?.column, "timestamp")
        XCTAssertTrue(e?.message.contains("strictly increase") == true)
    }

    func testHighBelowLow() {
        let e = csvError(header + "2020-01-01T00:00:00Z,1,0.4,0.5,0.45,10\n")
        XCTAssertEqual(e?.line, 2)
        XCTAssertEqual(e?.column, "high")
        XCTAssertTrue(e?.message.contains("below low") == true)
    }

    func testNegativePrice() {
        let e = csvError(header + "2020-01-01T00:00:00Z,-1,2,0.5,1,10\n")
        XCTAssertEqual(e?.column, "open")
        XCTAssertTrue(e?.message.contains("negative price") == true)
    }

    func testZeroPriceIsRefusedZeroVolumeIsNot() {
        for row in ["2020-01-01T00:00:00Z,0,2,0.5,1,10", "2020-01-01T00:00:00Z,1,2,0.5,0.0,10", "2020-01-01T00:00:00Z,1,2,0e0,1,10"] {
            let e = csvError(header + row + "\n")
            XCTAssertEqual(e?.line, 2, row)
            XCTAssertTrue(e?.message.contains("zero price") == true, "\(row): \(String(describing: e))")
        }
        XCTAssertNoThrow(try CSVLoader.parse(text: header + "2020-01-01T00:00:00Z,1,2,0.5,1,0\n", fileName: "ok.csv"), "a bar with no volume is a bar")
    }

    func testMissingColumnInHeaderAndRow() {
        let h = csvError("timestamp,open,high,low,close\n")
        XCTAssertEqual(h?.line, 1)
        XCTAssertEqual(h?.column, "volume")
        let r = csvError(header + "2020-01-01T00:00:00Z,1,2,0.5,1.5\n")
        XCTAssertEqual(r?.line, 2)
        XCTAssertEqual(r?.column, "volume")
        XCTAssertTrue(r?.message.contains("expected 6 fields") == true)
    }

    func testBadTimestampAndNonUTCOffset() {
        for bad in ["2020-13-01", "2020-02-30T00:00:00Z", "yesterday", "2020-01-01T00:00:00+02:00"] {
            let e = csvError(header + "\(bad),1,2,0.5,1.5,10\n")
            XCTAssertEqual(e?.column, "timestamp", bad)
            XCTAssertEqual(e?.line, 2, bad)
        }
    }

    func testMissingFileIsDataNotFoundWithPath() {
        XCTAssertThrowsError(try CSVLoader.load(path: "/nonexistent/X_1d.csv")) { error in
            XCTAssertEqual(error as? KtrdrError, .dataNotFound(path: "/nonexistent/X_1d.csv"))
        }
    }

    func testAcceptsDatesCRLFAndBlankLines() throws {
        let bars = try CSVLoader.parse(text: "timestamp,open,high,low,close,volume\r\n2020-01-01,1,2,0.5,1.5,0\r\n\r\n2020-01-02,1,2,0.5,1.5,0\r\n",
                                       fileName: "ok.csv")
        XCTAssertEqual(bars.count, 2)
        XCTAssertEqual(bars.timestamps, [1_577_836_800, 1_577_923_200])
    }

    func testNamesCannotReachTheFileSystem() {
        for bad in ["../etc", "a/b", "..", ".", "", String(repeating: "x", count: 33), "GOOG;rm", "GO OG", "é"] {
            XCTAssertFalse(Names.isValid(bad), bad)
            XCTAssertThrowsError(try Backtester.dataPath(symbol: bad, timeframe: .d1, dataDirectory: "data")) { error in
                XCTAssertEqual((error as? KtrdrError)?.code, "invalid_name", bad)
            }
            XCTAssertThrowsError(try StrategyLoader.path(for: bad, in: "strategies"), bad)
        }
        XCTAssertThrowsError(try Names.timeframe("2h")) { error in
            XCTAssertTrue("\(error)".contains("expected one of 1m, 5m, 15m, 30m, 1h, 4h, 1d, 1w"))
        }
        XCTAssertTrue(Names.isValid("EUR.USD-1_x"))
    }

    func testBadDataFileThroughBacktesterNamesFileAndLine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ktrdr-bad-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var text = header
        for i in 0..<40 { text += "2020-01-\(String(format: "%02d", i % 28 + 1))T\(String(format: "%02d", i / 28)):00:00Z,1,2,0.5,1.5,10\n" }
        try text.write(toFile: dir + "/BAD_1h.csv", atomically: true, encoding: .utf8)
        let config = try StrategyLoader.load(path: Repo.path("strategies/sma_crossover.yaml"))
        XCTAssertThrowsError(try Backtester.prepare(BacktestRequest(strategy: config, symbol: "BAD", timeframe: .h1), strategy: try compiledIn(config), dataDirectory: dir)) { error in
            guard case let .dataInvalid(file, line, column, _) = error as? KtrdrError else { return XCTFail("\(error)") }
            XCTAssertTrue(file.hasSuffix("BAD_1h.csv"))
            XCTAssertEqual(line, 30)  // 2020-01-01T01:00 after 2020-01-28T00:00
            XCTAssertEqual(column, "timestamp")
        }
    }
}
