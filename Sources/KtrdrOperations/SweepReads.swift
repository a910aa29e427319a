import Foundation
import KtrdrAPI
import KtrdrCore

extension OperationManager {
    /// A sweep's finished trials, best first, at any point of its life.
    nonisolated func sweepResult(_ record: OperationRecord) async throws(ApiError) -> SweepResult {
        guard let request = record.metadata.sweep else {
            throw ApiError(status: 500, code: "internal_error", message: "sweep '\(record.operationId)' has no stored request")
        }
        let rank: RankMetric
        do throws(KtrdrError) { rank = try RankMetric(request.rank ?? "sharpe_ratio", order: request.rankOrder) } catch { throw ApiError(error) }
        let store = self.store, id = record.operationId
        let trials = try await Self.fromStore { try store.trials(id) }
        let completed = trials.filter { $0.status == "completed" }
        let failed = trials.filter { $0.status != "completed" }
        let ranked = rank.order(completed.map(\.metrics)).map { completed[$0] } + failed
        var result = SweepResult(operationId: id, status: record.status, rank: rank.metric, rankOrder: rank.descending ? "desc" : "asc",
                                 parameters: request.grid.keys.sorted(), trialsTotal: record.progress.itemsTotal, trialsCompleted: completed.count,
                                 trialsFailed: failed.count, trials: ranked.map { var t = $0; t.returns = nil; return t },
                                 rerun: ranked.first.flatMap { $0.status == "completed" ? Self.rerun(request, $0) : nil })
        result.overfitting = await Self.offPool { Self.overfitting(ranked.filter { $0.status == "completed" }) }
        return result
    }

    /// The deflated Sharpe ratio of the top-ranked trial and the PBO of the sweep.
    static func overfitting(_ ranked: [SweepTrial]) -> OverfittingReport? {
        let stats = ranked.compactMap(\.returns)
        guard stats.count == ranked.count, let best = stats.first else { return nil }
        let dsr = Overfitting.deflatedSharpe(best: best, sharpes: stats.map(\.sharpe))
        let pbo = Overfitting.pbo(stats)
        return OverfittingReport(deflatedSharpeRatio: dsr?.dsr, expectedMaxSharpe: dsr?.expectedMax, bestSharpe: best.sharpe, pbo: pbo?.pbo,
                                 pboSplits: pbo?.splits, pboBlocks: pbo == nil ? nil : best.blocks.count, trials: stats.count)
    }

    /// A walk-forward's finished windows and, once done, its stitched out-of-sample summary.
    nonisolated func walkForwardResult(_ record: OperationRecord) async throws(ApiError) -> WalkForwardResult {
        guard let request = record.metadata.walkForward else {
            throw ApiError(status: 500, code: "internal_error", message: "walk-forward '\(record.operationId)' has no stored request")
        }
        let store = self.store, id = record.operationId
        let windows = try await Self.fromStore { try store.windows(id) }
        return WalkForwardResult(operationId: id, status: record.status, rank: request.sweep.rank ?? "sharpe_ratio", parameters: request.sweep.grid.keys.sorted(),
                                 windowsTotal: record.metadata.walkForwardWindows ?? windows.count, windows: windows,
                                 outOfSample: record.metadata.walkForwardSummary)
    }

    /// The `ktrdrctl` command that runs `trial` as a full backtest (trades, equity curve).
    static func rerun(_ r: SweepRequest, _ trial: SweepTrial) -> String {
        var words = ["ktrdrctl", "backtest", "run", r.run.strategyName, r.run.symbol, r.run.timeframe]
        if let s = r.run.startDate { words += ["--start", s] }
        if let e = r.run.endDate { words += ["--end", e] }
        if let c = r.run.initialCapital { words += ["--capital", "\(c)"] }
        if let c = r.run.commission { words += ["--commission", "\(c)"] }
        if let s = r.run.slippage { words += ["--slippage", "\(s)"] }
        let params = (r.run.params ?? [:]).merging(trial.params) { $1 }
        for name in params.keys.sorted() { words += ["--param", "\(name)=\(StrategyOverrides.Scalar.number(params[name]!))"] }
        for path in (r.run.overrides ?? [:]).keys.sorted() { words += ["--set", "\(path)=\(r.run.overrides![path]!)"] }
        return words.map { w in w.allSatisfy { $0.isLetter || $0.isNumber || "._-=:/".contains($0) } ? w : "'\(w)'" }.joined(separator: " ")
    }
}
