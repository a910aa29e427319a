import Foundation
import Hummingbird
import KtrdrAPI

/// What the router does not match still gets the error envelope: an unknown path is a 404
/// `route_not_found`, a known path with another method a 405 `method_not_allowed` with
/// `Allow` (GET routes also take HEAD: `getAndHead`). The route table is the OpenAPI
/// document's (one definition, checked against the routes by scenario A1).
struct RouteFallbackMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound || error.status == .methodNotAllowed {
            let allowed = RouteTable.methods(for: request.uri.path)
            guard !allowed.isEmpty else {
                return HTTPServer.errorResponse(ApiError(status: 404, code: "route_not_found",
                                                         message: "no route \(request.method.rawValue) \(request.uri.path.prefix(200)); see /api/v1/openapi.json"))
            }
            var response = HTTPServer.errorResponse(ApiError(status: 405, code: "method_not_allowed",
                message: "\(request.uri.path.prefix(200)) does not take \(request.method.rawValue); allowed: \(allowed.joined(separator: ", "))"))
            response.headers[.allow] = (allowed + (allowed.contains("GET") ? ["HEAD"] : [])).joined(separator: ", ")
            return response
        }
    }
}

/// The paths and methods of the OpenAPI document, for matching requests the router refused.
enum RouteTable {
    static let routes: [(segments: [String], methods: [String])] = {
        guard let doc = try? JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json.utf8)) as? [String: Any],
              let paths = doc["paths"] as? [String: [String: Any]] else { return [] }
        return paths.map { path, ops in
            (path.split(separator: "/").map(String.init), ops.keys.filter { ["get", "post", "put", "delete", "patch"].contains($0) }.map { $0.uppercased() }.sorted())
        }
    }()

    /// The methods a path takes (`{param}` segments match any one segment); empty when unknown.
    static func methods(for path: String) -> [String] {
        let parts = path.split(separator: "/").map(String.init)
        let found = routes.filter { route in
            route.segments.count == parts.count && zip(route.segments, parts).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
        }
        return Array(Set(found.flatMap(\.methods))).sorted()
    }
}

extension RouterMethods {
    /// A GET route, and HEAD on the same path answered like it without the body.
    @discardableResult
    func getAndHead(_ path: RouterPath, use handler: @Sendable @escaping (Request, Context) async throws -> Response) -> Self {
        on(path, method: .get, use: handler)
        return on(path, method: .head) { request, context in
            var response = try await handler(request, context)
            response.body = .init()
            return response
        }
    }
}
