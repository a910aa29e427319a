import Foundation
import KtrdrCore

/// A request body whose every field is known: a field not in `fieldNames` (snake_case) is a
/// 400 naming it, never silently ignored (a typo such as `symbl` would otherwise read as a
/// missing `symbol`, and a misspelt option would simply not apply).
public protocol StrictFields {
    static var fieldNames: [String] { get }
}

extension StrictFields {
    /// The fields of a JSON object not in `fieldNames`, each with the closest known name.
    public static func unknownFields(in object: [String: Any]) -> [(field: String, suggestion: String?)] {
        object.keys.sorted().filter { !fieldNames.contains($0) }.map { ($0, Spelling.closest(to: $0, in: fieldNames)) }
    }
}


/// `operation.get`, `operation.cancel`, `operation.watch`: one operation by id.
public struct OperationRef: Codable, Sendable, Equatable {
    public var operationId: String
    public init(operationId: String) { self.operationId = operationId }
}

/// `operations.list` and `GET /operations`: filters and a page; newest first.
public struct OperationsQuery: Codable, Sendable, Equatable {
    public var status: String?
    public var operationType: String?
    public var activeOnly: Bool?
    /// Only the children (trials) of this operation.
    public var parentId: String?
    public var limit: Int?
    public var offset: Int?

    public init(status: String? = nil, operationType: String? = nil, activeOnly: Bool? = nil, parentId: String? = nil,
                limit: Int? = nil, offset: Int? = nil) {
        self.status = status
        self.operationType = operationType
        self.activeOnly = activeOnly
        self.parentId = parentId
        self.limit = limit
        self.offset = offset
    }
}

/// `operation.metrics`: sampled bar history from `cursor` on.
public struct MetricsQuery: Codable, Sendable, Equatable {
    public var operationId: String
    public var cursor: Int?
    public init(operationId: String, cursor: Int? = nil) {
        self.operationId = operationId
        self.cursor = cursor
    }
}

/// `operation.results`: a completed backtest's result, with or without its equity curve.
public struct ResultsQuery: Codable, Sendable, Equatable {
    public var operationId: String
    public var equityCurve: Bool?
    public init(operationId: String, equityCurve: Bool? = nil) {
        self.operationId = operationId
        self.equityCurve = equityCurve
    }
}
