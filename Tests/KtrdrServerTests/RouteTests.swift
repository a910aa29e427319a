import Foundation
import Hummingbird
import HummingbirdTesting
import KtrdrAPI
import KtrdrCore
import KtrdrOperations
import KtrdrPlugins
import KtrdrTestSupport
import Logging
import XCTest

@testable import KtrdrServer

/// The HTTP routes in process (HummingbirdTesting's router client) over a real manager, a
/// real SQLite file and the real plugins: envelopes, statuses, error codes, the token.
final class RouteTests: XCTestCase {
    static let plugins: PluginHost = {
        let host = PluginHost(directory: TestPaths.builtPlugins)
        host.reload()
        return host
    }()

    var dir = ""
    override func setUp() { dir = TestPaths.temporaryDirectory("ktrdr-routes") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func app(token: String? = nil, openReads: Bool = false) throws -> some ApplicationProtocol {
        try Self.app(dir: dir, token: token, openReads: openReads)
    }

    /// The daemon's HTTP application over a real manager whose state lives in `dir`.
    static func app(dir: String, token: String? = nil, openReads: Bool = false) throws -> some ApplicationProtocol {
        let manager = OperationManager(store: try OperationStore(path: dir + "/ktrdr.db"), config: OperationsConfig(
            dataDirectory: TestPaths.path("data"), strategiesDirectory: TestPaths.path("strategies"),
            strategies: StrategyProvider(plugins: Self.plugins, models: ModelStore(root: TestPaths.path("models"), plugins: Self.plugins))),
            logger: Logger(label: "test"))
        let service = ApiService(manager: manager, strategiesDirectory: TestPaths.path("strategies"), version: "test")
        return HTTPServer.makeApplication(service: service, metrics: DaemonMetrics(), host: "127.0.0.1", port: 0, token: token,
                                          openReads: openReads, logger: Logger(label: "test"))
    }

    static func json(_ response: TestResponse) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any], String(buffer: response.body))
    }

    static func errorCode(_ response: TestResponse) throws -> String? {
        let body = try json(response)
        XCTAssertEqual(body["success"] as? Bool, false)
        return (body["error"] as? [String: Any])?["code"] as? String
    }

    func testABacktestThroughTheRoutesMatchesTheReference() async throws {
        try await app().test(.router) { client in
            let start = try await client.execute(uri: "/api/v1/backtests/start", method: .post, headers: [.contentType: "application/json"],
                                                 body: ByteBuffer(string: #"{"strategy_name":"sma_crossover","symbol":"GOOG","timeframe":"1d","commission":0.001,"slippage":0}"#))
            XCTAssertEqual(start.status, .ok)
            let started = try KtrdrJSON.decoder().decode(StartedResponse.self, from: Data(buffer: start.body))
            let id = started.operationId
            var status = started.data.status
            for _ in 0..<500 where !status.isTerminal {
                try await Task.sleep(nanoseconds: 10_000_000)
                let get = try await client.execute(uri: "/api/v1/operations/\(id)", method: .get)
                status = try KtrdrJSON.decoder().decode(Envelope<OperationRecord>.self, from: Data(buffer: get.body)).data.status
            }
            XCTAssertEqual(status, .completed)
            let result = try await client.execute(uri: "/api/v1/operations/\(id)/results?equity_curve=false", method: .get)
            XCTAssertEqual(result.status, .ok)
            let data = try XCTUnwrap(try Self.json(result)["data"] as? [String: Any])
            XCTAssertEqual((data["trades"] as? [Any])?.count, 33)
            XCTAssertEqual(((data["metrics"] as? [String: Any])?["final_equity"] as? NSNumber)?.doubleValue, 545054.3120499998)
            XCTAssertEqual(Set((data["metrics"] as? [String: Any] ?? [:]).keys), Set(Metrics.Field.allCases.map(\.json)), "every metric, by its one name")
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            XCTAssertTrue(String(buffer: metrics.body).contains("ktrdr_operations{state=\"completed\"} 1"), String(buffer: metrics.body))
            let children = try await client.execute(uri: "/api/v1/operations?parent_id=\(id)", method: .get)
            XCTAssertEqual((try Self.json(children)["data"] as? [String: Any])?["total_count"] as? Int, 0)
        }
    }

    func testErrorsComeInTheEnvelopeWithTheirCodes() async throws {
        try await app().test(.router) { client in
            let cases: [(String, HTTPRequest.Method, String?, HTTPResponse.Status, String)] = [
                ("/api/v1/backtests/start", .post, "{oops", .badRequest, "invalid_json"),
                ("/api/v1/backtests/start", .post, #"{"symbol":"GOOG","timeframe":"1d"}"#, .badRequest, "validation_error"),
                ("/api/v1/backtests/start", .post, #"{"strategy_name":"sma_crossover","symbol":"NOPE","timeframe":"1d"}"#, .notFound, "data_not_found"),
                ("/api/v1/backtests/start", .post, #"{"strategy_name":"sma_crossover","symbol":"GOOG","timeframe":"1d","start_date":"2004-08-25"}"#,
                 .unprocessableContent, "insufficient_data"),
                ("/api/v1/operations/op_backtesting_20990101_000000_deadbeef", .get, nil, .notFound, "operation_not_found"),
                ("/api/v1/operations?parent_id=../etc", .get, nil, .badRequest, "bad_request"),
                ("/api/v1/operations?limit=abc", .get, nil, .badRequest, "bad_request"),
                ("/api/v1/backtests/start", .post, #"{"strategy_name":"sma_crossover","symbl":"GOOG","timeframe":"1d"}"#, .badRequest, "unknown_field"),
                ("/api/v1/backtests/start", .post, #"{"strategy_name":"sma_crossover","symbol":"GOOG","timeframe":"1d","params":{"fast_period":50}}"#,
                 .unprocessableContent, "strategy_invalid"),
                ("/api/v1/backtests/start", .post, #"{"strategy_name":"sma_crossover","symbol":"GOOG","timeframe":"1d","params":{"fast_period":"5"}}"#,
                 .badRequest, "validation_error"),
                ("/api/v1/trainings/start", .post, #"{"strategy_name":"sma_crossover","symbol":"GOOG","timeframe":"1d","colour":1}"#, .badRequest, "unknown_field"),
            ]
            for (uri, method, body, status, code) in cases {
                let response = try await client.execute(uri: uri, method: method, headers: [.contentType: "application/json"],
                                                        body: body.map { ByteBuffer(string: $0) })
                XCTAssertEqual(response.status, status, uri)
                XCTAssertEqual(try Self.errorCode(response), code, uri)
            }
        }
    }

    func testTheDocumentsTradeAndMetricsSchemasAreTheFieldLists() async throws {
        try await app().test(.router) { client in
            let doc = try Self.json(try await client.execute(uri: "/api/v1/openapi.json", method: .get))
            let trade = ((doc["components"] as? [String: Any])?["schemas"] as? [String: Any])?["Trade"] as? [String: Any]
            XCTAssertEqual(trade?["required"] as? [String], Trade.Field.allCases.map(\.json))
            let metrics = ((doc["components"] as? [String: Any])?["schemas"] as? [String: Any])?["Metrics"] as? [String: Any]
            XCTAssertEqual(metrics?["required"] as? [String], Metrics.Field.allCases.map(\.json))
            XCTAssertEqual(((metrics?["properties"] as? [String: Any])?["sharpe_ratio"] as? [String: String])?["$ref"], "#/components/schemas/NumberOrNull")
        }
    }

    func testUnknownRoutesWrongMethodsAndHeadGetTheEnvelope() async throws {
        try await app().test(.router) { client in
            let unknown = try await client.execute(uri: "/api/v1/nope", method: .get)
            XCTAssertEqual(unknown.status, .notFound)
            XCTAssertEqual(try Self.errorCode(unknown), "route_not_found")
            let wrong = try await client.execute(uri: "/api/v1/backtests/start", method: .get)
            XCTAssertEqual(wrong.status, .methodNotAllowed)
            XCTAssertEqual(try Self.errorCode(wrong), "method_not_allowed")
            XCTAssertEqual(wrong.headers[.allow], "POST")
            let put = try await client.execute(uri: "/api/v1/operations/op_backtesting_20990101_000000_deadbeef", method: .put)
            XCTAssertEqual(put.status, .methodNotAllowed)
            XCTAssertEqual(put.headers[.allow], "DELETE, GET, HEAD")
            let head = try await client.execute(uri: "/health", method: .head)
            XCTAssertEqual(head.status, .ok)
            XCTAssertEqual(head.body.readableBytes, 0)
            let cursor = try await client.execute(uri: "/api/v1/operations/op_backtesting_20990101_000000_deadbeef/metrics?cursor=-5", method: .get)
            XCTAssertEqual(cursor.status, .badRequest)
        }
    }

    func testTheTokenGuardsTheAPIButNotHealth() async throws {
        try await app(token: "s3cret").test(.router) { client in
            let health = try await client.execute(uri: "/health", method: .get)
            XCTAssertEqual(health.status, .ok)
            let anonymous = try await client.execute(uri: "/api/v1/operations", method: .get)
            XCTAssertEqual(anonymous.status, .unauthorized)
            XCTAssertEqual(try Self.errorCode(anonymous), "unauthorized")
            for header in ["Bearer s3cret", "bearer s3cret", "BEARER  s3cret"] {
                let ok = try await client.execute(uri: "/api/v1/operations", method: .get, headers: [.authorization: header])
                XCTAssertEqual(ok.status, .ok, header)
            }
            for header in ["Bearer s3cre", "Bearer s3cretX", "Basic s3cret", "Bearer "] {
                let no = try await client.execute(uri: "/api/v1/operations", method: .get, headers: [.authorization: header])
                XCTAssertEqual(no.status, .unauthorized, header)
            }
        }
    }

    /// The loopback default: reads open, every mutating call needs the home's token.
    func testTheHomeTokenGuardsOnlyMutatingCalls() async throws {
        try await app(token: "home-token", openReads: true).test(.router) { client in
            for uri in ["/api/v1/operations", "/api/v1/plugins", "/metrics"] {
                let read = try await client.execute(uri: uri, method: .get)
                XCTAssertEqual(read.status, .ok, uri)
                let head = try await client.execute(uri: uri, method: .head)
                XCTAssertEqual(head.status, .ok, uri)
            }
            let calls: [(String, HTTPRequest.Method)] = [("/api/v1/plugins/reload", .post), ("/api/v1/backtests/start", .post),
                                                        ("/api/v1/operations/op_x", .delete), ("/api/v1/trainings/start", .post)]
            for (uri, method) in calls {
                let anonymous = try await client.execute(uri: uri, method: method, body: ByteBuffer(string: "{}"))
                XCTAssertEqual(anonymous.status, .unauthorized, uri)
                XCTAssertEqual(try Self.errorCode(anonymous), "unauthorized")
            }
            let reload = try await client.execute(uri: "/api/v1/plugins/reload", method: .post, headers: [.authorization: "Bearer home-token"])
            XCTAssertEqual(reload.status, .ok)
        }
    }
}
