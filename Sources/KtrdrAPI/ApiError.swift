import KtrdrCore

/// An error as the API reports it: HTTP status, stable code, message naming what and where.
public struct ApiError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var message: String
    /// Structured details (e.g. every strategy validation problem).
    public var details: [String: String]?
    public var problems: [ValidationIssue]?

    public init(status: Int, code: String, message: String, details: [String: String]? = nil, problems: [ValidationIssue]? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.problems = problems
    }

    public var description: String { "\(status) \(code): \(message)" }

    public static func badRequest(_ message: String, code: String = "bad_request") -> ApiError {
        ApiError(status: 400, code: code, message: message)
    }

    public static func notFound(_ what: String, code: String) -> ApiError { ApiError(status: 404, code: code, message: what) }

    /// `available` as a detail (comma-separated), when there is anything to list.
    static func listed(_ available: [String]) -> [String: String] {
        available.isEmpty ? [:] : ["available": available.joined(separator: ",")]
    }

    /// The API form of a core error.
    public init(_ e: KtrdrError) {
        switch e {
        case .invalidName, .invalidTimeframe, .invalidDate, .invalidRequest:
            self.init(status: 400, code: e.code, message: e.description)
        case let .dataNotFound(path, available):
            self.init(status: 404, code: e.code, message: e.description, details: ["path": path].merging(Self.listed(available)) { a, _ in a })
        case let .strategyNotFound(name, path, available):
            self.init(status: 404, code: e.code, message: e.description, details: ["strategy": name, "path": path].merging(Self.listed(available)) { a, _ in a })
        case let .strategyInvalid(file, issues):
            self.init(status: 422, code: e.code, message: e.description, details: ["file": file], problems: issues)
        case let .insufficientData(needed, found, _):
            self.init(status: 422, code: e.code, message: e.description, details: ["needed": "\(needed)", "found": "\(found)"])
        case let .pluginNotFound(name, available):
            self.init(status: 404, code: e.code, message: e.description, details: ["plugin": name, "available": available.joined(separator: ",")])
        case let .modelNotFound(path):
            self.init(status: 404, code: e.code, message: e.description, details: ["path": path])
        case let .modelInvalid(path, _):
            self.init(status: 422, code: e.code, message: e.description, details: ["path": path])
        case let .pluginInvalid(file, _):
            self.init(status: 422, code: e.code, message: e.description, details: ["file": file])
        case .dataInvalid, .unsupported:
            self.init(status: 422, code: e.code, message: e.description)
        case .cancelled:
            self.init(status: 409, code: e.code, message: e.description)
        case .io:
            self.init(status: 500, code: e.code, message: e.description)
        case let .remote(code, _):
            self.init(status: code == "plugin_mismatch" || code == "no_worker" ? 503 : 502, code: code, message: e.description)
        }
    }
}

extension ApiError {
    /// The store refused a write: 507 when the disk is full, 503 otherwise.
    public static func storeUnavailable(_ error: any Error) -> ApiError {
        let text = "\(error)"
        let full = text.contains("disk is full") || text.contains("No space left")
        return ApiError(status: full ? 507 : 503, code: full ? "storage_full" : "store_unavailable",
                        message: "the operation was not created: its record could not be written (\(text))")
    }
}
