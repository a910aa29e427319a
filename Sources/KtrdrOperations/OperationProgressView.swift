import Foundation
import KtrdrAPI
import KtrdrCore

/// What a live operation's progress looks like to clients, from its bridge.
extension OperationManager {
    func progress(of op: Live) -> OperationProgress {
        var p = op.record.progress
        if case .training = op.work { return trainingProgress(p, op) }
        guard let latest = op.bridge.latest.progress else {
            if let loading = op.bridge.loading {
                let mb = { (n: Int) in String(format: "%.1f", Double(n) / 1_048_576) }
                p.currentStep = "Loading data: \(loading.phase.rawValue) \(mb(loading.done)) of \(mb(loading.total)) MB"
                p.context.phase = "loading_data"
                p.context.bytesDone = loading.done
                p.context.bytesTotal = loading.total
            }
            return p
        }
        let total = max(1, latest.barsTotal)
        p.itemsProcessed = latest.barsDone
        p.itemsTotal = latest.barsTotal
        p.percentage = (Double(latest.barsDone) / Double(total) * 1000).rounded(.down) / 10
        let params = op.record.metadata.parameters
        p.currentStep = "Backtesting \(params.symbol) \(params.timeframe) [\(UTCTime.short(latest.currentTime))]"
        p.context.currentDate = UTCTime.iso(latest.currentTime)
        p.context.currentPnl = latest.pnl
        p.context.totalTrades = latest.tradesClosed
        p.context.winRate = latest.tradesClosed > 0 ? Double(latest.winningTrades) / Double(latest.tradesClosed) : nil
        if latest.barsDone < latest.barsTotal, let started = RecordTime.seconds(op.record.startedAt) {
            let elapsed = Date().timeIntervalSince1970 - started
            if elapsed > 0 { p.context.barsPerSecond = Double(latest.barsDone) / elapsed }
        }
        return p
    }

    private func trainingProgress(_ base: OperationProgress, _ op: Live) -> OperationProgress {
        var p = base
        let epochs = op.bridge.epochs
        guard let last = epochs.last else { return p }
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
}
