import ArgumentParser
import Foundation
import KtrdrAPI
import KtrdrClient
import KtrdrCore

/// `ktrdrctl workers`: the daemon's workers, static and registered, with their health and load.
struct WorkersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workers", abstract: "The daemon's remote workers: health, capacity, load, plugins and cached data files.")
    @OptionGroup var daemon: DaemonOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let workers = try withClient { try daemon.connect().workers() }
        if json { return print(String(decoding: try KtrdrJSON.encoder(pretty: true).encode(workers), as: UTF8.self)) }
        if workers.isEmpty { return print("no workers (start ktrdrd with --worker URL, REMOTE_BACKTEST_SERVICE_URL, or --accept-workers)") }
        var rows = [["URL", "SOURCE", "HEALTHY", "ASSIGNED", "RUNNING", "CAPACITY", "DATA FILES", "LAST SEEN", "PROBLEM"]]
        for w in workers {
            rows.append([w.url, w.source, w.healthy ? "yes" : "no", "\(w.assigned)", w.info.map { "\($0.running)" } ?? "-",
                         w.info.map { "\($0.capacity)" } ?? "-", w.info.map { "\($0.blobs.count)" } ?? "-", w.lastSeen ?? "never", w.lastError ?? ""])
        }
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        print(rows.map { zip($0, widths).map { Format.pad($0, $1) }.joined(separator: "  ") }.joined(separator: "\n"))
    }
}
