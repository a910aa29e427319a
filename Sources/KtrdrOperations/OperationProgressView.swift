import Foundation
import KtrdrAPI
import KtrdrCore

/// What a live operation's progress looks like to clients, from its bridge.
extension OperationManager {
    func progress(of op: Live) -> OperationProgress {
        var p = op.record.progress
        if let remote = op.bridge.mirrored { return remote }
        if case .training = op.work { return trainingProgress(p, op) }
        if case let .sweep(job) = op.work, let trials = op.bridge.trials { return sweepProgress(p, trials, rank: job.rank) }
        if case let .walkForward(job) = op.work, let trials = op.bridge.trials {
            var w = sweepProgress(p, trials, rank: job.sweep.rank)
            let perWindow = job.sweep.trials.count + 1
            w.currentStep = "Window \(min(job.windows.count, trials.done / perWindow + 1))/\(job.windows.count): backtest \(trials.done)/\(trials.total)"
            return w
        }
        guard let latest = op.bridge.latest.progress else { return loadingProgress(p, op) }
        let total = max(1, latest.barsTotal)
        p.itemsProcessed = latest.barsDone
        p.itemsTotal = latest.barsTotal
        p.percentage = (Double(latest.barsDone) / Double(total) * 1000).rounded(.down) / 10
        let params = op.record.metadata.parameters
        p.currentStep = "Backtesting \(params.symbol) \(params.timeframe) [\(UTCTime.short(latest.currentTime))]"
        p.context.currentDate = UTCTime.iso(latest.currentTime)
        p.context.currentPnl = latest.pnl.isFinite ? latest.pnl : nil  // JSON has no NaN: an overflowed run stays readable
        p.context.totalTrades = latest.tradesClosed
        p.context.winRate = latest.tradesClosed > 0 ? Double(latest.winningTrades) / Double(latest.tradesClosed) : nil
        if latest.barsDone < latest.barsTotal, let started = RecordTime.seconds(op.record.startedAt) {
            let elapsed = Date().timeIntervalSince1970 - started
            if elapsed > 0 { p.context.barsPerSecond = Double(latest.barsDone) / elapsed }
        }
        return p
    }

    private func sweepProgress(_ base: OperationProgress, _ t: ProgressBridge.Trials, rank: RankMetric) -> OperationProgress {
        var p = base
        p.itemsProcessed = t.done
        p.itemsTotal = t.total
        p.percentage = (Double(t.done) / Double(max(1, t.total)) * 1000).rounded(.down) / 10
        p.context.trialsDone = t.done
        p.context.trialsFailed = t.failed
        p.context.bestValue = t.bestValue
        p.context.bestParams = t.bestParams
        let best = t.bestParams.map { params in
            "; best \(rank.metric) \(t.bestValue.map { String(format: "%.4g", $0) } ?? "-") at " + params.keys.sorted().map { "\($0)=\(StrategyOverrides.Scalar.number(params[$0]!))" }.joined(separator: " ")
        } ?? ""
        p.currentStep = "Trial \(t.done)/\(t.total)\(t.failed > 0 ? " (\(t.failed) failed)" : "")\(best)"
        if let started = t.startedAt, t.doneHere > 0, t.done < t.total {
            let elapsed = Date().timeIntervalSince1970 - started
            p.context.etaSeconds = elapsed / Double(t.doneHere) * Double(t.total - t.done)
        }
        return p
    }

    private func trainingProgress(_ base: OperationProgress, _ op: Live) -> OperationProgress {
        var p = base
        let epochs = op.bridge.epochs
        guard let last = epochs.last else { return loadingProgress(p, op) }
        p.itemsProcessed = last.epoch
        p.itemsTotal = last.epochs
        p.percentage = (Double(last.epoch) / Double(max(1, last.epochs)) * 1000).rounded(.down) / 10
        p.currentStep = "Training epoch \(last.epoch)/\(last.epochs)"
        p.context.epoch = last.epoch
        p.context.loss = last.loss
        p.context.trainAccuracy = last.trainAccuracy
        p.context.valAccuracy = last.valAccuracy
        return p
    }

    /// Before the first bar or epoch: the data file's loading, if it is loading.
    private func loadingProgress(_ base: OperationProgress, _ op: Live) -> OperationProgress {
        guard let loading = op.bridge.loading else { return base }
        var p = base
        let mb = { (n: Int) in String(format: "%.1f", Double(n) / 1_048_576) }
        p.currentStep = "Loading data: \(loading.phase.rawValue) \(mb(loading.done)) of \(mb(loading.total)) MB"
        p.context.phase = "loading_data"
        p.context.bytesDone = loading.done
        p.context.bytesTotal = loading.total
        return p
    }
}
