import KtrdrAPI
@testable import KtrdrServer
import XCTest

/// HTTP without a token listens on loopback only, decided on the resolved address.
final class BindingTests: XCTestCase {
    func bind(_ host: String, token: String? = nil) throws -> String {
        var config = DaemonConfig(home: "/nonexistent")
        config.httpHost = host
        config.apiToken = token
        return try config.checkBinding()
    }

    func code(_ host: String) -> String? {
        do { _ = try bind(host); return nil } catch { return (error as? ApiError)?.code }
    }

    func testLoopbackNamesBindTheirNumericAddress() throws {
        XCTAssertEqual(try bind("127.0.0.1"), "127.0.0.1")
        XCTAssertEqual(try bind("127.0.0.2"), "127.0.0.2")
        XCTAssertEqual(try bind("::1"), "::1")
        XCTAssertTrue(["127.0.0.1", "::1"].contains(try bind("localhost")))
    }

    func testANameThatOnlyLooksLikeLoopbackIsRefused() {
        // Before: any host spelt "127.…" passed, whatever it resolved to.
        XCTAssertEqual(code("127.0.0.1.example.invalid"), "insecure_bind", ".invalid never resolves")
        XCTAssertEqual(code("127.evil.invalid"), "insecure_bind")
        XCTAssertEqual(code("0.0.0.0"), "insecure_bind")
        XCTAssertEqual(code("::"), "insecure_bind")
    }

    func testATokenAllowsAnyAddress() throws {
        XCTAssertEqual(try bind("0.0.0.0", token: "s3cret"), "0.0.0.0")
    }
}
