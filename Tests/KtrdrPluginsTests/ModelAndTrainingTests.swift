import Foundation
import KtrdrAPI
import KtrdrCore
import XCTest

@testable import KtrdrPlugins

final class ModelAndTrainingTests: XCTestCase {
    func testZigzagLabelsTakeTheFirstBarrierAndLeaveTheTailUnlabelled() {
        let close = [100, 100.5, 101.2, 100, 99.2, 98.9, 100, 100, 100, 100.0]
        let labels = TrainingLabels.zigzag(close: close, threshold: 0.01, lookahead: 3)
        // t0: 101.2 >= 101 at t2 → BUY; t1: 99.2 <= 99.495 at t4 → SELL; t2: 100 <= 100.188 at t3 → SELL;
        // t3: 98.9 <= 99 at t5 → SELL; t4: neither 100.192 nor 98.208 within t5..t7 → HOLD;
        // t5: 100 >= 99.889 at t6 → BUY; t6: flat → HOLD; the last 3 bars have no complete window.
        XCTAssertEqual(labels, [0, 2, 2, 2, 1, 0, 1, -1, -1, -1])
    }

    func testChronologicalSplit() {
        let s = TrainingLabels.split(count: 100, train: 0.7, validation: 0.15)
        XCTAssertEqual(s.train, 0..<70)
        XCTAssertEqual(s.validation, 70..<85)
        XCTAssertEqual(s.test, 85..<100)
    }

    func testErrorTextKeepsValidationIssuesAcrossTheABI() {
        let issues = [ValidationIssue(path: "params.x", line: 3, message: "unknown"), ValidationIssue(path: "params", message: "a < b")]
        XCTAssertEqual(ErrorText.issues(in: ErrorText.encode(.strategyInvalid(file: "f", issues: issues))), issues)
        XCTAssertNil(ErrorText.issues(in: ErrorText.encode(.modelNotFound(path: "p"))))
    }

    func testModelPathsStayInsideTheModelsDirectoryAndLatestIsTheHighestVersion() throws {
        let root = NSTemporaryDirectory() + "ktrdr-models-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = ModelStore(root: root, plugins: PluginHost(directory: root + "/none"))
        for v in [1, 2, 10] {
            try FileManager.default.createDirectory(atPath: store.directory(strategy: "s", symbol: "EURUSD", timeframe: .h1, version: v),
                                                    withIntermediateDirectories: true)
        }
        XCTAssertEqual(store.versions(strategy: "s", symbol: "EURUSD", timeframe: .h1), [1, 2, 10])
        XCTAssertEqual(try store.resolve(strategy: "s", symbol: "EURUSD", timeframe: .h1, modelPath: nil),
                       store.directory(strategy: "s", symbol: "EURUSD", timeframe: .h1, version: 10))
        XCTAssertThrowsError(try store.resolve(strategy: "s", symbol: "GOOG", timeframe: .d1, modelPath: nil)) { error in
            XCTAssertEqual((error as? KtrdrError)?.code, "model_not_found")
            XCTAssertTrue("\(error)".contains("GOOG_1d_v{N}"))
        }
        for bad in ["../x", "/etc", "s/../../etc", ""] {
            XCTAssertThrowsError(try store.confine(bad), bad) { error in XCTAssertEqual((error as? KtrdrError)?.code, "invalid_request") }
        }
        XCTAssertEqual(try store.confine("s/EURUSD_1h_v2/model.pt"), root + "/s/EURUSD_1h_v2")
        // A symlink inside the directory that points outside it is refused; one that stays inside is fine.
        let outside = NSTemporaryDirectory() + "ktrdr-outside-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: outside) }
        try FileManager.default.createSymbolicLink(atPath: root + "/s/escape", withDestinationPath: outside)
        try FileManager.default.createSymbolicLink(atPath: root + "/s/alias", withDestinationPath: root + "/s/EURUSD_1h_v1")
        XCTAssertThrowsError(try store.confine("s/escape")) { error in XCTAssertTrue("\(error)".contains("outside the models directory"), "\(error)") }
        XCTAssertThrowsError(try store.confine(root + "/s/escape/model.pt"))
        XCTAssertNoThrow(try store.confine("s/alias"))
        XCTAssertThrowsError(try store.metadata(directory: root + "/s/EURUSD_1h_v2")) { error in
            XCTAssertEqual((error as? KtrdrError)?.code, "model_not_found")
        }
    }
}
