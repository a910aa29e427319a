import ArgumentParser
import Foundation
import KtrdrAPI
import KtrdrClient
import KtrdrCore
import KtrdrOperations
import KtrdrDefaults

/// How ktrdrctl reaches the daemon: the control socket under --home, or HTTP with --url.
struct DaemonOptions: ParsableArguments {
    @Option(help: "ktrdrd state directory (default: $KTRDR_HOME or ~/.ktrdr); its run/ktrdrd.sock is used.")
    var home: String?
    @Option(help: "Talk HTTP to this daemon (e.g. http://127.0.0.1:8000) instead of the control socket; token from $KTRDR_API_TOKEN, else the local daemon's --home/run/http-token.")
    var url: String?

    var resolvedHome: String { home ?? KtrdrDefaults.home }
    var socketPath: String { resolvedHome + "/run/ktrdrd.sock" }

    /// `$KTRDR_API_TOKEN`, else the token a local daemon without one wrote for its mutating calls.
    var httpToken: String? {
        if let env = ProcessInfo.processInfo.environment["KTRDR_API_TOKEN"], !env.isEmpty { return env }
        let text = try? String(contentsOfFile: resolvedHome + "/run/http-token", encoding: .utf8)
        return text.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    func connect() throws -> DaemonConnection {
        do {
            if let url { return try HTTPConnection(url: url, token: httpToken) }
            return try ControlClient(socketPath: socketPath)
        } catch let e as ClientError {
            throw clientFailure(e)
        }
    }
}

/// Prints a daemon error and maps it to the documented exit code.
func clientFailure(_ e: ClientError) -> ExitCode {
    printError("error [\(e.code)]: \(e)")
    return ExitCode(ExitStatus.code(status: e.status, code: e.code))
}

/// Runs `body`, turning client errors into exit codes.
func withClient<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as ClientError { throw clientFailure(e) }
}

extension ProgressBar {
    /// Draws the bar from an operation record (daemon-driven runs).
    func draw(_ r: OperationRecord) {
        let p = r.progress
        if !r.status.isTerminal, p.context.phase == "loading_data" || p.itemsTotal == 0 {
            let mb = { (n: Int?) in Format.fixed(Double(n ?? 0) / 1_048_576, 1) }
            drawLine(force: false) { _ in "\(self.label) loading data \(mb(p.context.bytesDone))/\(mb(p.context.bytesTotal)) MB" }
            return
        }
        let time = p.context.currentDate.flatMap(UTCTime.parse)
        draw(BacktestProgress(barsDone: p.itemsProcessed, barsTotal: p.itemsTotal, currentTime: time ?? 0,
                              equity: 0, pnl: p.context.currentPnl ?? 0, tradesClosed: p.context.totalTrades ?? 0, winningTrades: 0),
             force: r.status.isTerminal)
    }
}
