import Foundation
import KtrdrAPI
import KtrdrCore

/// The trials of sweeps, one small row each (parameters, status, metrics as JSON): a
/// 10,000-trial sweep writes 10,000 rows in a few batched transactions, and no equity curves.
extension OperationStore {
    /// Stores finished trials of `sweepId` in one transaction on the write queue (a trial stored
    /// again replaces the earlier row: a resumed sweep never counts one twice).
    public func saveTrials(_ sweepId: String, _ trials: [SweepTrial]) throws {
        guard !trials.isEmpty else { return }
        let encoder = KtrdrJSON.encoder()
        let rows = try trials.map { ($0.index, String(decoding: try encoder.encode($0), as: UTF8.self)) }
        try writes.sync {
            try writer.withLock { box in
                try box.db.transaction {
                    for (index, json) in rows {
                        try box.db.query("INSERT OR REPLACE INTO sweep_trials(sweep_id, idx, trial) VALUES(?, ?, ?)",
                                         [.text(sweepId), .int(Int64(index)), .text(json)])
                    }
                }
            }
        }
    }

    /// Every stored trial of `sweepId`, in trial order.
    public func trials(_ sweepId: String) throws -> [SweepTrial] {
        let decoder = KtrdrJSON.decoder()
        return try read { db in
            try db.query("SELECT trial FROM sweep_trials WHERE sweep_id = ? ORDER BY idx", [.text(sweepId)]).compactMap { row in
                guard let text = row.first?.text else { return nil }
                return try decoder.decode(SweepTrial.self, from: Data(text.utf8))
            }
        }
    }

    /// The trial indices of `sweepId` already stored (a resumed sweep skips them).
    public func trialIndices(_ sweepId: String) throws -> Set<Int> {
        try read { db in
            Set(try db.query("SELECT idx FROM sweep_trials WHERE sweep_id = ?", [.text(sweepId)]).compactMap { $0.first?.int.map(Int.init) })
        }
    }
}
