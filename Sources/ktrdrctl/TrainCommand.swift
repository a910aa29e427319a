import ArgumentParser
import Foundation
import KtrdrAPI
import KtrdrClient
import KtrdrCore
import KtrdrOperations

/// `ktrdrctl train`: trains a strategy's model on the daemon, one progress line per epoch.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a strategy's model as a daemon operation and write a new model version.",
        discussion: """
            Labels, split and network come from the strategy file (training and model sections).
            Training is deterministic for a given seed and data. Ctrl-C cancels the operation;
            no model version is written then.
            """)

    @OptionGroup var daemon: DaemonOptions
    @OptionGroup var target: RunTarget
    @Flag(help: "Print the finished operation record as JSON.")
    var json = false

    func run() throws {
        let connection = try daemon.connect()
        let record = try withClient { try connection.startTraining(target.parameters) }
        let id = record.operationId
        printError("operation \(id): training \(target.strategy) on \(target.symbol) \(target.timeframe), \(record.metadata.bars.map { "\(Format.grouped($0)) bars" } ?? "loading data"), \(record.progress.itemsTotal) epochs")
        let interrupt = CancelOnInterrupt(operationId: id, daemon: daemon)
        defer { interrupt.disarm() }
        var shown = 0
        let final = try withClient {
            try connection.watch(id) { r in
                let c = r.progress.context
                guard let epoch = c.epoch, epoch > shown else { return }
                shown = epoch
                printError(String(format: "epoch %3d/%d  loss %.5f  train_accuracy %.4f  val_accuracy %.4f", epoch, r.progress.itemsTotal,
                                  c.loss ?? .nan, c.trainAccuracy ?? .nan, c.valAccuracy ?? .nan))
            }
        }
        if json { print(String(decoding: try KtrdrJSON.encoder(pretty: true).encode(final), as: UTF8.self)) }
        try exitUnlessCompleted(final)
        guard let t = final.metadata.trainingResult else { return }
        let s = t.metadata.training
        print("model v\(t.version) written to \(t.modelPath)")
        print(String(format: "epochs %d, loss %.5f, accuracy train %.4f  validation %.4f  test %.4f (rows %d/%d/%d, labels BUY/HOLD/SELL %@)",
                     s.epochsRun, s.finalLoss, s.trainAccuracy, s.valAccuracy, s.testAccuracy, s.trainRows, s.valRows, s.testRows,
                     s.labelCounts.map(String.init).joined(separator: "/")))
        print("operation \(id)")
    }
}
