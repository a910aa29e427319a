import Foundation
import KtrdrAPI
import KtrdrCore
import XCTest

@testable import KtrdrOperations

/// How a server picks a worker: least busy by its own reservations over capacity, only among
/// those running the strategy's plugin at the same version; registrations expire.
final class WorkerDirectoryTests: XCTestCase {
    func testTheLeastBusyMatchingWorkerIsPickedAndAMismatchIsNamed() async throws {
        var c = RemoteConfig(workers: [], remoteByDefault: false, token: nil)
        c.registrationTTL = 60
        let directory = WorkerDirectory(config: c)
        let sma = PluginRef(name: "sma_crossover", version: "1.0.0")
        func info(_ url: String, capacity: Int, plugins: [PluginRef]) -> WorkerInfo {
            WorkerInfo(url: url, version: "t", capacity: capacity, running: 0, pending: 0, plugins: plugins, blobs: [], instance: "1")
        }
        await directory.register(info("http://a:1", capacity: 1, plugins: [sma]))
        await directory.register(info("http://b:1", capacity: 4, plugins: [sma]))
        await directory.register(info("http://c:1", capacity: 8, plugins: [PluginRef(name: "sma_crossover", version: "2.0.0")]))
        var picks: [String] = []
        for _ in 0..<5 { picks.append(try await directory.choose(plugin: sma, excluding: []).url) }
        // Load = reserved picks / capacity: b takes four before a's one fills it... in order.
        XCTAssertEqual(picks.sorted(), ["http://a:1", "http://b:1", "http://b:1", "http://b:1", "http://b:1"])
        XCTAssertFalse(picks.contains("http://c:1"), "never a worker with another plugin version")
        do {
            _ = try await directory.choose(plugin: PluginRef(name: "sma_crossover", version: "3.0.0"), excluding: [])
            XCTFail("expected plugin_mismatch")
        } catch { XCTAssertEqual(error.code, "plugin_mismatch"); XCTAssertTrue(error.description.contains("2.0.0"), error.description) }
        do {
            _ = try await directory.choose(plugin: sma, excluding: ["http://a:1", "http://b:1"])
            XCTFail("expected plugin_mismatch: c is left but runs 2.0.0")
        } catch { XCTAssertEqual(error.code, "plugin_mismatch") }
        let forgotten = await directory.prune(now: Date(timeIntervalSinceNow: 61))
        XCTAssertEqual(forgotten, ["http://a:1", "http://b:1", "http://c:1"])
    }
}
