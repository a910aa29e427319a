import CSQLite
import Foundation

/// A value bound to or read from a SQLite statement.
enum SQLiteValue: @unchecked Sendable {
    case null
    case int(Int64)
    case double(Double)
    case text(String)
    case blob([UInt8])
    /// Bytes bound without a copy; the pointer must stay valid until the statement has run.
    case rawBlob(UnsafeRawBufferPointer)

    var text: String? { if case let .text(s) = self { s } else { nil } }
    var int: Int64? { if case let .int(i) = self { i } else { nil } }
    var blob: [UInt8]? { if case let .blob(b) = self { b } else { nil } }
}

/// A SQLite failure with the statement's context.
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { "sqlite: \(message)" }
}

/// A thin wrapper over one sqlite3 connection. Not thread-safe: the owner serialises access.
final class SQLiteConnection {
    private let db: OpaquePointer
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    init(path: String, readOnly: Bool = false) throws {
        var handle: OpaquePointer?
        let flags = readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        let rc = sqlite3_open_v2(path, &handle, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let handle { sqlite3_close(handle) }
            throw SQLiteError(message: "\(path): \(message)")
        }
        db = handle
        sqlite3_busy_timeout(db, 5000)
    }

    deinit { sqlite3_close(db) }

    func execute(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        if sqlite3_exec(db, sql, nil, nil, &error) != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? "error"
            sqlite3_free(error)
            throw SQLiteError(message: "\(message) in: \(sql.prefix(80))")
        }
    }

    @discardableResult
    func query(_ sql: String, _ params: [SQLiteValue] = []) throws -> [[SQLiteValue]] {
        var stmt: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &stmt, nil) == SQLITE_OK, let stmt else {
            throw SQLiteError(message: "\(String(cString: sqlite3_errmsg(db))) in: \(sql.prefix(80))")
        }
        defer { sqlite3_finalize(stmt) }
        for (i, p) in params.enumerated() {
            let index = Int32(i + 1)
            switch p {
            case .null: sqlite3_bind_null(stmt, index)
            case let .int(v): sqlite3_bind_int64(stmt, index, v)
            case let .double(v): sqlite3_bind_double(stmt, index, v)
            case let .text(v): sqlite3_bind_text(stmt, index, v, -1, Self.transient)
            case let .blob(v): v.withUnsafeBytes { _ = sqlite3_bind_blob64(stmt, index, $0.baseAddress, sqlite3_uint64($0.count), Self.transient) }
            case let .rawBlob(v): sqlite3_bind_blob64(stmt, index, v.baseAddress, sqlite3_uint64(v.count), nil)  // SQLITE_STATIC
            }
        }
        var rows = [[SQLiteValue]]()
        while true {
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw SQLiteError(message: "\(String(cString: sqlite3_errmsg(db))) in: \(sql.prefix(80))") }
            var row = [SQLiteValue]()
            for c in 0..<sqlite3_column_count(stmt) {
                switch sqlite3_column_type(stmt, c) {
                case SQLITE_INTEGER: row.append(.int(sqlite3_column_int64(stmt, c)))
                case SQLITE_FLOAT: row.append(.double(sqlite3_column_double(stmt, c)))
                case SQLITE_TEXT: row.append(.text(String(cString: sqlite3_column_text(stmt, c))))
                case SQLITE_BLOB:
                    let n = Int(sqlite3_column_bytes(stmt, c))
                    let p = sqlite3_column_blob(stmt, c)
                    row.append(.blob(n > 0 && p != nil ? Array(UnsafeRawBufferPointer(start: p, count: n)) : []))
                default: row.append(.null)
                }
            }
            rows.append(row)
        }
        return rows
    }

    func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }
}
