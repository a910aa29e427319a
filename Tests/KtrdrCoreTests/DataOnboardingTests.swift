import Foundation
import KtrdrCore
import KtrdrFiles
import XCTest

/// `data check` (DataAudit) and `data import` (DataImport) on small fixed files.
final class DataOnboardingTests: XCTestCase {
    func testAuditReportsEveryDefectWithItsLine() {
        let text = """
            timestamp,open,high,low,close,volume
            2024-01-02T00:00:00Z,10,11,9,10.5,100
            2024-01-03T00:00:00Z,10,11,9,10.5,100
            2024-01-03T00:00:00Z,10,11,9,10.5,100
            2024-01-04T00:00:00Z,0,11,0,10.5,100
            2024-01-05T00:00:00Z,10,9,11,10.5,100
            2024-01-08T00:00:00Z,10,11,9,12,100
            2024-01-09T00:00:00Z,ten,11,9,10,100
            2024-01-12T00:00:00Z,10,11,9,10,100
            2024-01-31T00:00:00Z,10,11,9,10,100
            2024-01-30T00:00:00Z,10,11,9,10,100

            """
        let a = DataAudit.run(text: text, timeframe: .d1)
        XCTAssertEqual(a.duplicates.first.map(\.line), [4])
        XCTAssertEqual(a.nonPositivePrices.first.map(\.message), ["open 0.0: prices must be above 0", "low 0.0: prices must be above 0"])
        XCTAssertEqual(a.ohlcInconsistent.first.map(\.message), ["high 9.0 below low 11.0", "open 10.0 / close 12.0 outside low 9.0 … high 11.0"])
        XCTAssertEqual(a.ohlcInconsistent.first.map(\.line), [6, 7])
        XCTAssertEqual(a.unreadable.first.map(\.line), [8])
        XCTAssertTrue(a.unreadable.first[0].message.contains("open 'ten': expected a finite number"))
        XCTAssertEqual(a.outOfOrder.first.map(\.line), [11])
        XCTAssertEqual(a.defects, 7)
        XCTAssertEqual(a.rows, 9)
        XCTAssertEqual(a.gaps, [:], "out-of-order files are not checked for gaps")
    }

    func testGapsAreClassedByTheCalendar() {
        func file(_ times: [String]) -> String {
            "timestamp,open,high,low,close,volume\n" + times.map { "\($0),1,1,1,1,1" }.joined(separator: "\n")
        }
        // Daily: Fri → Mon (weekend), Mon → Wed (holiday), Wed → the next Wednesday (unexplained).
        let daily = DataAudit.run(text: file(["2024-01-05T00:00:00Z", "2024-01-08T00:00:00Z", "2024-01-10T00:00:00Z", "2024-01-17T00:00:00Z"]), timeframe: .d1)
        XCTAssertEqual(daily.gaps["weekend"], .init(gaps: 1, missingBars: 2))
        XCTAssertEqual(daily.gaps["holiday"], .init(gaps: 1, missingBars: 1))
        XCTAssertEqual(daily.gaps["unexplained"], .init(gaps: 1, missingBars: 6))
        XCTAssertEqual(daily.largestGaps.first?.line, 5)
        // Hourly: Fri 21:00 → Sun 22:00 (weekend, FX), Sun 22:00 → Tue 20:00 (Monday missing: holiday),
        // Tue 20:00 → Wed 14:00 (overnight, an equity session), Wed 15:00 → 18:00 (a hole: unexplained).
        let hourly = DataAudit.run(text: file(["2024-01-05T21:00:00Z", "2024-01-07T22:00:00Z", "2024-01-09T20:00:00Z", "2024-01-10T14:00:00Z",
                                               "2024-01-10T15:00:00Z", "2024-01-10T18:00:00Z"]), timeframe: .h1)
        XCTAssertEqual(hourly.gaps["weekend"]?.missingBars, 48)
        XCTAssertEqual(hourly.gaps["overnight"], .init(gaps: 1, missingBars: 17))
        XCTAssertEqual(hourly.gaps["holiday"], .init(gaps: 1, missingBars: 45))
        XCTAssertEqual(hourly.gaps["unexplained"], .init(gaps: 1, missingBars: 2))
        XCTAssertEqual(hourly.defects, 0)
    }

    func testYahooImportSkipsNullRowsAndKeepsPricesAsWritten() throws {
        let yahoo = """
            Date,Open,High,Low,Close,Adj Close,Volume
            2024-01-04,10.5,11.25,10.125,11,10.9,1200
            2024-01-03,null,null,null,null,null,null
            2024-01-02,10,10.75,9.5,10.5,10.4,1000
            """
        let (csv, record) = try DataImport.convert(text: yahoo, file: "GOOG.csv", format: .yahoo, timeZone: nil, symbol: "G", timeframe: .d1)
        XCTAssertEqual(csv, "timestamp,open,high,low,close,volume\n2024-01-02T00:00:00Z,10,10.75,9.5,10.5,1000\n2024-01-04T00:00:00Z,10.5,11.25,10.125,11,1200\n")
        XCTAssertTrue(record.reversed)
        XCTAssertEqual(record.skipped.map(\.line), [3])
        XCTAssertEqual(record.unusedColumns, ["Adj Close"])
        XCTAssertEqual(record.columns["timestamp"], "Date")
        XCTAssertEqual(try CSVLoader.parse(text: csv, fileName: "out.csv").count, 2)
    }

    func testTimesWithOffsetsZonesAndEpochs() throws {
        let ny = TimeZone(identifier: "America/New_York")!
        func t(_ s: String, _ zone: TimeZone = TimeZone(identifier: "UTC")!) throws -> String {
            UTCTime.iso(try DataImport.parseTime(s, zone: zone, file: "f", line: 2, column: "Date"))
        }
        XCTAssertEqual(try t("2024-07-01 09:30:00", ny), "2024-07-01T13:30:00Z")  // EDT
        XCTAssertEqual(try t("2024-01-02 09:30:00", ny), "2024-01-02T14:30:00Z")  // EST
        XCTAssertEqual(try t("2024-01-02 09:30:00-05:00", ny), "2024-01-02T14:30:00Z")
        XCTAssertEqual(try t("2024-01-02T09:30:00+05:30"), "2024-01-02T04:00:00Z")
        XCTAssertEqual(try t("2024-01-02", ny), "2024-01-02T00:00:00Z", "a date is a day")
        XCTAssertEqual(try t("1704205800"), "2024-01-02T14:30:00Z")
        XCTAssertEqual(try t("1704205800000"), "2024-01-02T14:30:00Z")
        XCTAssertEqual(try t("1704205800000000"), "2024-01-02T14:30:00Z")
        XCTAssertThrowsError(try t("2024-11-03 01:30:00", ny)) { XCTAssertTrue("\($0)".contains("happens twice in America/New_York"), "\($0)") }
        XCTAssertThrowsError(try t("2024-03-10 02:30:00", ny)) { XCTAssertTrue("\($0)".contains("does not exist in America/New_York"), "\($0)") }
        XCTAssertThrowsError(try t("02/01/2024")) { XCTAssertTrue("\($0)".contains("f:2: column 'Date'"), "\($0)") }
    }

    func testImportDefectsNameLineAndColumnAndBinanceRefusesAZone() {
        func refused(_ text: String, _ format: DataFormat, zone: TimeZone? = nil, _ fragment: String) {
            XCTAssertThrowsError(try DataImport.convert(text: text, file: "in.csv", format: format, timeZone: zone, symbol: "S", timeframe: .h1)) {
                XCTAssertTrue("\($0)".contains(fragment), "\($0) lacks \(fragment)")
            }
        }
        refused("Date,Open,High,Low,Close,Volume\n2024-01-02,1,0.5,1,1,1\n", .yahoo, "in.csv:2: column 'High': open 1, high 0.5")
        refused("Date,Open,High,Low,Close,Volume\n2024-01-02,0,1,1,1,1\n", .yahoo, "in.csv:2: column 'Open': '0': expected a price above 0")
        refused("time,open,high,low,close\n2024-01-02T01:00:00Z,1,1,1,1\n2024-01-02T01:00:00Z,2,2,2,2\n", .generic, "in.csv:3: column 'time'")
        refused("Timestamp,Price\n1,2\n", .generic, "has no column for open (open or o)")
        refused("1704205800000,1,1,1,1,1,0,0,0,0,0,0\n", .binance, zone: TimeZone(identifier: "Europe/London"), "a time zone does not apply")
    }
}
