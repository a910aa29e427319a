import Foundation
import KtrdrCore
import KtrdrFiles
import XCTest

/// The chunked parse gives the same bars and the same errors as one parse of the whole text,
/// wherever the chunks end (inside a number, between CR and LF, inside the header), and the
/// file loader (a small reused buffer) equals both.
final class CSVStreamTests: XCTestCase {
    let text = "\u{FEFF}timestamp,open,high,low,close,volume\r\n"
        + "2020-01-01T00:00:00Z,1.25,2,0.5,1.5,10\r\n"
        + "\r\n"
        + "2020-01-02,1.5,2.75,1,2.125,1e3\r\n"
        + "2020-01-03T00:00:00Z,2.125,3,2,2.5,12345678901234567890\r\n"
        + "2020-01-04T00:00:00Z,2.5,2.5,2.5,2.5,0"  // no final newline: the number ends at the buffer's end

    /// Feeds `bytes` in pieces cut at `cuts`, carrying the unconsumed rest as a file reader does.
    private func chunked(_ bytes: [UInt8], cuts: [Int]) throws(KtrdrError) -> Bars {
        var parser = CSVStreamParser(fileName: "chunked.csv")
        var pending: [UInt8] = []
        var from = 0
        for cut in cuts + [bytes.count] {
            pending += bytes[from..<cut]
            from = cut
            let final = cut == bytes.count
            let count = pending.count
            pending.append(0)
            let used = try pending.withUnsafeBufferPointer { (p: UnsafeBufferPointer<UInt8>) throws(KtrdrError) -> Int in
                try parser.feed(UnsafeBufferPointer(rebasing: p[0..<count]), final: final)
            }
            pending.removeLast()
            pending.removeFirst(used)
        }
        return parser.finish()
    }

    func testEverySplitPointGivesTheSameBars() throws {
        let whole = try CSVLoader.parse(text: text, fileName: "whole.csv")
        XCTAssertEqual(whole.count, 4)
        XCTAssertEqual(whole.volume, [10, 1000, 12345678901234567890, 0])
        let bytes = Array(text.utf8)
        for cut in 0...bytes.count {
            XCTAssertEqual(try chunked(bytes, cuts: [cut]), whole, "cut at byte \(cut)")
        }
        XCTAssertEqual(try chunked(bytes, cuts: Array(stride(from: 1, to: bytes.count, by: 3))), whole)
    }

    func testErrorsNameTheSameLineWhateverTheChunks() {
        let bad = Array((text + "\n2020-01-05T00:00:00Z,1,2,0.5,abc,10\n").utf8)
        for cuts in [[], [10], [bad.count - 5], Array(stride(from: 1, to: bad.count, by: 7))] {
            do {
                _ = try chunked(bad, cuts: cuts)
                XCTFail("expected an error")
            } catch let .dataInvalid(_, line, column, message) {
                XCTAssertEqual(line, 7)
                XCTAssertEqual(column, "close")
                XCTAssertTrue(message.contains("'abc'"), message)
            } catch {
                XCTFail("\(error)")
            }
        }
    }

    func testEmptyInputIsTheEmptyFileError() {
        XCTAssertThrowsError(try chunked([], cuts: [])) { error in
            XCTAssertTrue("\(error)".contains("empty file"), "\(error)")
        }
    }

    func testFileLoaderWithLinesLongerThanItsBufferEqualsTheWholeParse() throws {
        // Lines padded past the loader's buffer (leading zeros keep the values), and enough
        // rows that the file spans many buffers.
        let pad = String(repeating: "0", count: 600 << 10)
        var body = "timestamp,open,high,low,close,volume\n"
        body += "2020-01-01T00:00:00Z,\(pad)1.5,2,1,1.5,7\n"
        for day in 0..<20_000 {
            let t = UTCTime.iso(1_577_923_200 + Int64(day) * 60)
            body += "\(t),\(Double(day) / 8 + 1),\(Double(day) / 8 + 2),\(Double(day) / 8 + 0.5),\(Double(day) / 8 + 1.5),\(day)\n"
        }
        body += "2099-01-01T00:00:00Z,1,2,1,1.5,\(pad)9"
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("csvstream-\(getpid()).csv").path
        try body.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var reads = 0
        let loaded = try CSVLoader.load(path: path) { phase, _, _ in reads += phase == .reading ? 1 : 0; return true }
        XCTAssertEqual(loaded, try CSVLoader.parse(text: body, fileName: path))
        XCTAssertEqual(loaded.count, 20_002)
        XCTAssertEqual(loaded.open[0], 1.5)
        XCTAssertEqual(loaded.volume.last, 9)
        XCTAssertGreaterThan(reads, 3, "the file is read in several pieces")
    }
}
