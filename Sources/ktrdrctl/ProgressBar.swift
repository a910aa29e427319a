import KtrdrAPI
import KtrdrCore
import Synchronization

/// A one-line live progress bar on stderr: bars, date, P&L, trades, rate and ETA.
/// Redraws at most 10 times a second; the engine's sink call is otherwise a clock read.
final class ProgressBar: Sendable {
    private let enabled: Bool
    let label: String
    private let started = KtrdrStdio.now()
    private let lastDraw = Mutex<Double>(0)

    init(enabled: Bool, label: String) {
        self.enabled = enabled
        self.label = label
    }

    var sink: ProgressSink? {
        guard enabled else { return nil }
        return { [self] p in draw(p, force: false) }
    }

    func draw(_ p: BacktestProgress, force: Bool) {
        drawLine(force: force) { elapsed in Self.line(p, label: self.label, elapsed: elapsed) }
    }

    /// Redraws the line (rate-limited unless `force`); nothing when disabled (not a terminal).
    func drawLine(force: Bool, _ text: (Double) -> String) {
        guard enabled else { return }
        let now = KtrdrStdio.now()
        let due = lastDraw.withLock { last -> Bool in
            guard force || now - last >= 0.1 else { return false }
            last = now
            return true
        }
        guard due else { return }
        KtrdrStdio.writeStderr("\r\u{1B}[2K" + Self.fitted(text(now - started), columns: KtrdrStdio.terminalColumns))
    }

    func finish() {
        if enabled { KtrdrStdio.writeStderr("\r\u{1B}[2K") }
    }

    static func line(_ p: BacktestProgress, label: String, elapsed: Double) -> String {
        let width = 24
        let filled = Int(p.fraction * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let rate = elapsed > 0 ? Double(p.barsDone) / elapsed : 0
        let eta = rate > 0 && p.barsDone > 0 ? Format.fixed(Double(p.barsTotal - p.barsDone) / rate, 1) + "s" : "—"
        let date = p.barsDone == 0 || p.currentTime <= 0 ? "—" : UTCTime.short(p.currentTime)  // no bar yet: no date
        return "\(label) \(bar) \(Format.fixed(p.fraction * 100, 1))%  \(Format.grouped(p.barsDone))/\(Format.grouped(p.barsTotal)) bars  "
            + "\(date)  P&L \(Format.signedMoney(p.pnl))  trades \(p.tradesClosed)  \(Format.rate(rate)) bars/s  ETA \(eta)"
    }

    /// The line cut to the terminal's width: a line that wraps cannot be redrawn in place.
    static func fitted(_ line: String, columns: Int) -> String {
        guard columns > 1, line.count >= columns else { return line }
        return String(line.prefix(columns - 2)) + "…"
    }
}
