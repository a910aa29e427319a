import Foundation
import KtrdrAPI
import KtrdrCore

/// Reads: live operations and records not yet confirmed by the store come from the actor's
/// memory (a short hop); everything else is read by the store's own connections, never on
/// the actor, so a read never waits for a store write, nor the reverse. A single record is
/// read on the calling thread (a hop would cost more than the read); lists and results on a
/// GCD thread.
extension OperationManager {
    /// The in-memory state of `id` (live progress included), if it has one.
    func memoryRecord(_ id: String) -> OperationRecord? {
        if let op = live[id] {
            var r = op.record
            r.progress = progress(of: op)
            return r
        }
        return unconfirmed[id]?.record
    }

    private func memoryRecords(_ ids: [String]) -> [String: OperationRecord] {
        var out: [String: OperationRecord] = [:]
        for id in ids { if let r = memoryRecord(id) { out[id] = r } }
        return out
    }

    public nonisolated func get(_ id: String) async throws(ApiError) -> OperationRecord {
        if let r = try await memoryRecord(checked: id) { return r }
        return try storedRecord(id) { try store.record($0) }
    }

    /// The record as JSON: encoded from memory for a live one, the stored text otherwise (a
    /// finished record is served without being decoded and encoded again).
    public nonisolated func getJSON(_ id: String) async throws(ApiError) -> [UInt8] {
        if let r = try await memoryRecord(checked: id) {
            do { return [UInt8](try KtrdrJSON.encoder().encode(r)) } catch {
                throw ApiError(status: 500, code: "internal_error", message: "record encoding failed: \(error)")
            }
        }
        return try storedRecord(id) { try store.recordJSON($0) }
    }

    /// Refuses an id we could not have made, then answers from memory when it can.
    private nonisolated func memoryRecord(checked id: String) async throws(ApiError) -> OperationRecord? {
        guard OperationRecord.isValidId(id) else { throw .notFound("unknown operation id '\(id.prefix(80))'", code: "operation_not_found") }
        return await memoryRecord(id)
    }

    /// One stored record (as a value or as JSON), read on the calling thread; 404 when absent.
    private nonisolated func storedRecord<T>(_ id: String, _ read: (String) throws -> T?) throws(ApiError) -> T {
        let stored: T?
        do { stored = try read(id) } catch { throw ApiError(status: 500, code: "store_error", message: "store: \(error)") }
        guard let stored else { throw .notFound("operation '\(id)' not found", code: "operation_not_found") }
        return stored
    }

    public nonisolated func list(status: OperationStatus?, type: OperationType?, activeOnly: Bool, parentId: String? = nil,
                                 limit: Int, offset: Int) async throws(ApiError) -> (records: [OperationRecord], total: Int) {
        let store = self.store
        var (records, total) = try await Self.fromStore {
            try store.list(status: status, type: type, activeOnly: activeOnly, parentId: parentId, limit: limit, offset: offset)
        }
        let current = await memoryRecords(records.map(\.operationId))
        for i in records.indices { if let r = current[records[i].operationId] { records[i] = r } }
        return (records, total)
    }

    /// Operations by status, exact at any history size: pending and running from the
    /// scheduler, finished ones counted by the database plus those whose terminal write is
    /// still queued (for the moment between the write and its confirmation, one may count twice).
    public nonisolated func statusCounts() async throws(ApiError) -> [OperationStatus: Int] {
        let store = self.store
        let stored = try await Self.fromStore { try store.countsByStatus() }
        return await overlay(stored)
    }

    private func overlay(_ stored: [OperationStatus: Int]) -> [OperationStatus: Int] {
        var counts: [OperationStatus: Int] = [.pending: 0, .running: 0]
        for (status, n) in stored where status.isTerminal { counts[status] = n }
        for op in live.values { counts[op.record.status, default: 0] += 1 }
        for (id, entry) in unconfirmed where live[id] == nil && entry.record.status.isTerminal { counts[entry.record.status, default: 0] += 1 }
        return counts
    }

    /// Sampled bar history from `cursor` on.
    public nonisolated func metrics(_ id: String, cursor: Int) async throws(ApiError) -> (samples: [BarSample], next: Int, status: OperationStatus) {
        let record = try await get(id)
        if let page = await liveSamples(id, cursor: cursor) { return (page.samples, page.next, record.status) }
        return ([], cursor, record.status)
    }

    private func liveSamples(_ id: String, cursor: Int) -> (samples: [BarSample], next: Int)? {
        live[id].map { $0.bridge.samples(from: cursor) }
    }

    public nonisolated func result(_ id: String) async throws(ApiError) -> BacktestResult {
        try await completed(id)
        let store = self.store
        guard let r = try await Self.fromStore({ try store.result(id) }) else {
            throw .notFound("no stored result for operation '\(id)'", code: "result_not_found")
        }
        return r
    }

    /// The result as ready-made JSON (see `OperationStore.resultJSON`), built off the actor.
    public nonisolated func resultJSON(_ id: String, includeCurve: Bool) async throws(ApiError) -> [UInt8] {
        let record = try await get(id)
        if record.operationType == .sweep || record.operationType == .walkforward {
            do {
                if record.operationType == .sweep { return Array(try KtrdrJSON.encoder().encode(try await sweepResult(record))) }
                return Array(try KtrdrJSON.encoder().encode(try await walkForwardResult(record)))
            } catch let e as ApiError { throw e } catch { throw ApiError(status: 500, code: "internal_error", message: "\(error)") }
        }
        try await completed(id)
        let store = self.store
        guard let r = try await Self.fromStore({ try store.resultJSON(id, includeCurve: includeCurve) }) else {
            throw .notFound("no stored result for operation '\(id)'", code: "result_not_found")
        }
        return r
    }

    private nonisolated func completed(_ id: String) async throws(ApiError) {
        let record = try await get(id)
        guard record.status == .completed else {
            throw ApiError(status: 409, code: "not_completed", message: "operation '\(id)' is \(record.status.rawValue); results exist only for completed operations")
        }
    }

    /// Sleeps up to `nanoseconds`, returning early when the operation ends: watchers poll
    /// progress at their coalescing interval but see the terminal state at once.
    public nonisolated func waitForEnd(_ id: String, upTo nanoseconds: UInt64) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(nanoseconds: nanoseconds) }
            group.addTask { await self.untilFinished(id) }
            await group.next()
            group.cancelAll()
        }
    }

    private func untilFinished(_ id: String) async {
        guard live[id] != nil else { return }
        let key = UUID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                if Task.isCancelled || live[id] == nil { c.resume() } else { finishWaiters[id, default: [:]][key] = c }
            }
        } onCancel: {
            Task { await self.dropWaiter(id, key) }
        }
    }

    private func dropWaiter(_ id: String, _ key: UUID) {
        finishWaiters[id]?.removeValue(forKey: key)?.resume()
    }

    /// Latest progress version of a live operation (nil when not live): lets watchers send only changes.
    public func version(_ id: String) -> UInt64? { live[id]?.bridge.latest.version }

    /// A store read on a GCD thread; its failure is a 500 naming the store.
    static func fromStore<T: Sendable>(_ read: @escaping @Sendable () throws -> T) async throws(ApiError) -> T {
        let r: Result<T, ApiError> = await offPool {
            do { return .success(try read()) } catch { return .failure(ApiError(status: 500, code: "store_error", message: "store: \(error)")) }
        }
        return try r.get()
    }
}
