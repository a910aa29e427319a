import Foundation
import KtrdrAPI
import KtrdrCore
import KtrdrPlugins
import Synchronization

/// Where a running backtest leaves its latest progress. The engine thread writes (one lock,
/// a struct copy, a version bump: tens of nanoseconds, at most once per engine chunk);
/// readers pull the latest value when they ask. Nothing polls the engine.
public final class ProgressBridge: Sendable {
    /// Loading the data file, before the run (bytes of the file read, then parsed).
    public struct Loading: Sendable, Equatable {
        public var phase: CSVLoader.LoadPhase
        public var done: Int
        public var total: Int
    }

    /// A sweep's trials so far.
    public struct Trials: Sendable, Equatable {
        public var total: Int
        public var done = 0
        public var failed = 0
        /// Trials finished in this run (a resumed sweep's earlier ones excluded), for the ETA.
        public var doneHere = 0
        public var bestValue: Double?
        public var bestParams: [String: Double]?
        public var startedAt: Double?
    }
    private struct State {
        var trials: Trials?
        var loading: Loading?
        var prepared: (bars: Int, warmup: Int)?
        var latest: BacktestProgress?
        var epochs: [EpochReport] = []
        var version: UInt64 = 0
        var samples: [BarSample] = []
        var nextSampleAt = 0
        var mirrored: OperationProgress?
        var mirroredAt = 0.0
    }

    private let state = Mutex(State())
    /// Bars between two metric-history samples (about 500 samples per run).
    private let sampleEvery: Int

    public init(totalBars: Int) {
        sampleEvery = max(1, totalBars / 500)
    }

    /// A remote run's progress as its worker last reported it.
    public func mirror(_ p: OperationProgress) {
        let now = Pacer.seconds()
        state.withLock { s in
            s.mirrored = p
            s.mirroredAt = now
            s.version &+= 1
        }
    }

    /// Seconds since the remote progress was last read.
    public var mirrorAge: Double { Pacer.seconds() - state.withLock { $0.mirroredAt } }

    public var mirrored: OperationProgress? { state.withLock { $0.mirrored } }

    /// Called from the engine thread.
    public func write(_ p: BacktestProgress) {
        state.withLock { s in
            s.latest = p
            s.version &+= 1
            if p.barsDone >= s.nextSampleAt {
                s.samples.append(BarSample(bar: p.barsDone, date: UTCTime.iso(p.currentTime), equity: p.equity, pnl: p.pnl,
                                           trades: p.tradesClosed))
                s.nextSampleAt = p.barsDone + sampleEvery
            }
        }
    }

    /// Called from a training thread after each epoch.
    public func write(_ epoch: EpochReport) {
        state.withLock { s in
            s.epochs.append(epoch)
            s.version &+= 1
        }
    }

    public var epochs: [EpochReport] { state.withLock { $0.epochs } }

    /// Called from the operation's thread while the data file loads.
    public func load(_ phase: CSVLoader.LoadPhase, done: Int, total: Int) {
        state.withLock { s in
            s.loading = Loading(phase: phase, done: done, total: total)
            s.version &+= 1
        }
    }

    /// Called once the bars are loaded and the range resolved.
    public func prepared(bars: Int, warmup: Int) {
        state.withLock { s in
            s.prepared = (bars, warmup)
            s.loading = nil
            s.version &+= 1
        }
    }

    public var loading: Loading? { state.withLock { $0.loading } }
    public var trials: Trials? { state.withLock { $0.trials } }

    /// Called by a sweep before its first trial (with the trials already stored when resumed).
    public func startTrials(total: Int, alreadyDone: Int, alreadyFailed: Int, best: (Double, [String: Double])?, now: Double) {
        state.withLock { s in
            s.trials = Trials(total: total, done: alreadyDone, failed: alreadyFailed, bestValue: best?.0, bestParams: best?.1, startedAt: now)
            s.loading = nil
            s.version &+= 1
        }
    }

    /// Called from a sweep's worker threads after each trial.
    public func trialFinished(failed: Bool, value: Double?, params: [String: Double], rank: RankMetric) {
        state.withLock { s in
            guard var t = s.trials else { return }
            t.done += 1
            t.doneHere += 1
            if failed { t.failed += 1 }
            if let value, rank.better(value, than: t.bestValue) {
                t.bestValue = value
                t.bestParams = params
            }
            s.trials = t
            s.version &+= 1
        }
    }
    public var preparedBars: (bars: Int, warmup: Int)? { state.withLock { $0.prepared } }

    public var latest: (progress: BacktestProgress?, version: UInt64) {
        state.withLock { ($0.latest, $0.version) }
    }

    /// Samples from `cursor` on, and the cursor to continue from.
    public func samples(from cursor: Int) -> (samples: [BarSample], next: Int) {
        state.withLock { s in
            let start = min(max(0, cursor), s.samples.count)
            return (Array(s.samples[start...]), s.samples.count)
        }
    }

    /// The sink handed to the engine.
    public var sink: ProgressSink { { [self] p in write(p) } }
}

/// Replay pacing outside the engine: after each progress report, the engine thread sleeps
/// until wall time catches up with `barsDone / rate`. The loop itself is untouched, and the
/// cancellation token is still read every chunk.
final class Pacer: Sendable {
    private let rate: Double
    private let bridge: ProgressBridge
    private let start = Mutex<Double?>(nil)

    init(rate: Double, bridge: ProgressBridge) {
        self.rate = rate
        self.bridge = bridge
    }

    var sink: ProgressSink {
        { [self] p in
            bridge.write(p)
            let now = Self.seconds()
            let t0 = start.withLock { s -> Double in
                if s == nil { s = now }
                return s!
            }
            let wait = t0 + Double(p.barsDone) / rate - now
            if wait > 0 { usleep(UInt32(min(wait, 1) * 1_000_000)) }
        }
    }

    static func seconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}
