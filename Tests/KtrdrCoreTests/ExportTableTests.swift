@testable import KtrdrCore
import XCTest

/// Export tables: CSV as RFC 4180, and the Parquet file's frame and Thrift compact encoding.
/// (pyarrow reads the files back in scenario SW1.)
final class ExportTableTests: XCTestCase {
    let table = ExportTable(columns: [
        .int64("n", [1, 2]), .double("x", [0.1, nil]), .timestamp("t", [0, 86_400]), .string("s", ["a,b", "say \"hi\""]),
    ])

    func testCSV() {
        XCTAssertEqual(table.csv(), """
            n,x,t,s
            1,0.1,1970-01-01T00:00:00Z,"a,b"
            2,,1970-01-02T00:00:00Z,"say ""hi\"\""

            """)
    }

    func testParquetFrame() throws {
        let bytes = try table.parquet()
        XCTAssertEqual(Array(bytes.prefix(4)), Array("PAR1".utf8))
        XCTAssertEqual(Array(bytes.suffix(4)), Array("PAR1".utf8))
        let n = bytes.count
        let footer = Int(UInt32(bytes[n - 8]) | UInt32(bytes[n - 7]) << 8 | UInt32(bytes[n - 6]) << 16 | UInt32(bytes[n - 5]) << 24)
        XCTAssertTrue(footer > 20 && footer < n - 12, "metadata length \(footer) of \(n) bytes")
        XCTAssertEqual(bytes[n - 9], 0, "the metadata struct ends with its stop byte")
        XCTAssertThrowsError(try ExportTable(columns: [.int64("a", [1]), .int64("b", [])]).parquet())
    }

    func testCompactProtocol() {
        var w = CompactWriter()
        w.i32(1, 1)       // field 1, i32: delta 1, type 5; zigzag(1) = 2
        w.i64(3, -1)      // delta 2, type 6; zigzag(-1) = 1
        w.i32(20, 300)    // delta 17: long form, type then zigzag(20) = 40; zigzag(300) = 600 = 0xD8 0x04
        w.bool(21, true)  // delta 1, type 1 (true)
        w.stop()
        XCTAssertEqual(w.bytes, [0x15, 0x02, 0x26, 0x01, 0x05, 0x28, 0xD8, 0x04, 0x11, 0x00])
        var l = CompactWriter()
        l.listField(1, .i32, count: 20)
        XCTAssertEqual(l.bytes, [0x19, 0xF5, 0x14], "a list of 15 or more: 0xF0 | type, then the size")
    }
}
