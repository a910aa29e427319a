import Foundation
import KtrdrAPI

/// Record writes in order, off the actor: a record stays readable from memory until its
/// latest write is confirmed, and a failed write is retried.
extension OperationManager {
    /// Queues the record's write; until the store confirms it, reads are answered from memory.
    /// A failed write is retried every 2 s (a full disk must not lose a terminal state).
    func persist(_ record: OperationRecord) {
        writeCounter += 1
        let write = writeCounter, id = record.operationId
        unconfirmed[id] = (record, write)
        store.enqueueSave(record) { [weak self] error in
            Task { await self?.confirm(id, write: write, error: error) }
        }
    }

    fileprivate func confirm(_ id: String, write: UInt64, error: (any Error)?) {
        guard let entry = unconfirmed[id], entry.write == write else { return }  // a newer write is queued
        guard let error else { unconfirmed[id] = nil; return }
        logger.error("could not persist operation; retrying in 2 s", metadata: ["operation_id": "\(id)", "error": "\(error)"])
        Task {
            try? await Task.sleep(nanoseconds: 2_000_000_000)
            self.retry(id, write: write)
        }
    }

    fileprivate func retry(_ id: String, write: UInt64) {
        guard let entry = unconfirmed[id], entry.write == write else { return }
        persist(live[id]?.record ?? entry.record)
    }
}
