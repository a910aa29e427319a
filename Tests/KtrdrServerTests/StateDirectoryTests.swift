import Foundation
import KtrdrServer
import KtrdrTestSupport
import XCTest

/// An existing home left readable by others is made private; new files are private.
final class StateDirectoryTests: XCTestCase {
    func mode(_ path: String) -> Int { (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1 }

    func testAnExistingOpenHomeIsTightened() throws {
        let home = TestPaths.temporaryDirectory("ktrdr-home")
        defer { try? FileManager.default.removeItem(atPath: home) }
        let saved = umask(0o022)
        defer { umask(saved) }
        chmod(home, 0o755)
        try FileManager.default.createDirectory(atPath: home + "/log", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        for f in ["/ktrdr.db", "/ktrdr.db-wal", "/log/ktrdrd.log"] {
            FileManager.default.createFile(atPath: home + f, contents: Data("x".utf8), attributes: [.posixPermissions: 0o644])
        }
        let changed = try StateDirectory.secure(home)
        XCTAssertTrue(changed.contains(home + "/ktrdr.db"), "\(changed)")
        XCTAssertEqual(mode(home), 0o700)
        XCTAssertEqual(mode(home + "/log"), 0o700)
        XCTAssertEqual(mode(home + "/run"), 0o700)
        for f in ["/ktrdr.db", "/ktrdr.db-wal", "/log/ktrdrd.log"] { XCTAssertEqual(mode(home + f), 0o600, f) }
        FileManager.default.createFile(atPath: home + "/new", contents: Data())
        XCTAssertEqual(mode(home + "/new"), 0o600, "the umask makes new files private")
        XCTAssertEqual(try StateDirectory.secure(home), [], "nothing left to tighten")
    }
}
