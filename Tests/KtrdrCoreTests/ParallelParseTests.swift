import Foundation
import XCTest

@testable import KtrdrCore

/// Two-thread parsing gives the single pass's bars and, for a defect anywhere (around the
/// seam above all), the single pass's error: line, column and message.
final class ParallelParseTests: XCTestCase {
    func csv(_ bars: Int) -> [UInt8] {
        var out = [UInt8]()
        SyntheticData(bars: bars, seed: 5).csvChunks { out += $0; return true }
        return out
    }

    func outcome(_ bytes: [UInt8], parallel: Bool) -> String {
        let terminated = bytes + [0]
        return terminated.withUnsafeBufferPointer { p in
            do throws(KtrdrError) {
                let bars = try CSVLoader.parse(UnsafeBufferPointer(rebasing: p[0..<bytes.count]), fileName: "f.csv", observer: nil,
                                               parallelAbove: parallel ? 1 : Int.max)
                return "ok \(bars.count) \(bars.timestamps.last ?? 0) \(bars.close.reduce(0, +).bitPattern)"
            } catch { return "\(error)" }
        }
    }

    func testSameBarsAsOnePass() {
        let bytes = csv(20_000)
        XCTAssertEqual(outcome(bytes, parallel: true), outcome(bytes, parallel: false))
        XCTAssertTrue(outcome(bytes, parallel: true).hasPrefix("ok 20000"))
    }

    func testSameErrorForADefectOnAnyLineAroundTheSeam() {
        let bytes = csv(4_000)
        var lineStarts = [0]
        for (i, b) in bytes.enumerated() where b == 0x0A && i + 1 < bytes.count { lineStarts.append(i + 1) }
        let middle = lineStarts.firstIndex { $0 >= bytes.count / 2 }!
        var checked = 0
        for line in (middle - 25)...(middle + 25) {
            let start = lineStarts[line], stop = line + 1 < lineStarts.count ? lineStarts[line + 1] - 1 : bytes.count
            let text = String(decoding: bytes[start..<stop], as: UTF8.self)
            let fields = text.split(separator: ",").map(String.init)
            let previous = String(decoding: bytes[lineStarts[line - 1]..<(start - 1)], as: UTF8.self).split(separator: ",").map(String.init)
            let defects = [
                [previous[0]] + fields.dropFirst(),                                  // not after the previous timestamp
                [fields[0], fields[1], "1", "2"] + fields.dropFirst(4),             // high below low
                [previous[0], fields[1], "1", "2"] + fields.dropFirst(4),           // both: the timestamp is reported first
                [fields[0], "x"] + fields.dropFirst(2),                             // unparsable number
                Array(fields.prefix(5)),                                            // a missing value
                fields + ["9"],                                                     // too many fields
            ]
            for d in defects {
                let edited = Array(bytes[..<start]) + Array(d.joined(separator: ",").utf8) + Array(bytes[stop...])
                XCTAssertEqual(outcome(edited, parallel: true), outcome(edited, parallel: false), "line \(line + 1): \(d)")
                checked += 1
            }
        }
        XCTAssertEqual(checked, 51 * 6)
    }
}
