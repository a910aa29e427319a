import ArgumentParser
import Foundation
import KtrdrAPI
import KtrdrCore
import KtrdrOperations
import KtrdrPlugins
import KtrdrStrategies
import KtrdrDefaults
import KtrdrFiles

/// `ktrdr-bench`: engine and loader throughput, medians over repeated runs.
/// Run in release: `swift run -c release ktrdr-bench`.
@main
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ktrdr-bench",
        abstract: "Measure engine throughput (sma_crossover, data in memory) and CSV load speed.")

    @Option(help: "Bar counts for the engine benchmark, comma-separated.")
    var sizes = "1000000,10000000"
    @Option(help: "Repetitions per measurement (the median is reported).")
    var repeats = 7
    @Option(help: "CSV file for the load benchmark (generated if missing).")
    var csv = "data/SYNTH_1m.csv"
    @Option(help: "Strategy file for the engine benchmark.")
    var strategy = "strategies/sma_crossover.yaml"
    @Option(help: "Directory of trained models (the inference benchmark uses the shipped neuro model).")
    var modelsDir = "models"
    @Option(help: "Directory of built plugins (default: this executable's directory).")
    var pluginsDir: String?
    @Flag(help: "Print one JSON object per measurement instead of a table.")
    var json = false
    @Flag(help: "Only the sweep-signals measurements: a grid's signals on 1M bars (sma_crossover 174 trials, rsi_mean_reversion 48), alone and with shared indicators.")
    var sweepSignals = false
    @Option(help: "Only the stops measurement: sma_crossover on 1M generated bars with this stop-loss and take-profit (fractions, e.g. 0.002,0.004).")
    var stops: String?

    func run() throws {
        Allocator.tuneForColumns()  // as ktrdrd and ktrdrctl do at startup
        if sweepSignals { return try sharedIndicators() }
        if let stops { return try stopsRun(stops) }
        let config = try StrategyLoader.load(path: strategy)
        var settings = config.executionSettings(initialCapital: 100_000, commission: 0.001, slippage: 0)
        settings.positionSize = 1.0
        for size in sizes.split(separator: ",").compactMap({ Int($0) }) {
            let bars = SyntheticData(bars: size).generate()
            let impl = try StrategyCatalog.make(config, file: strategy)
            var trades = 0
            var finalEquity = 0.0
            let times = measure(repeats) {
                let (signal, confidence) = try! impl.signals(for: bars)
                let out = try! BacktestEngine.run(bars: bars, first: 0, last: bars.count - 1, signal: signal, confidence: confidence,
                                                  settings: settings)
                let m = Metrics.compute(output: out, initialCapital: settings.initialCapital, barsPerYear: Timeframe.m1.barsPerYear,
                                        spanSeconds: bars.timestamps.last! - bars.timestamps[0], firstOpen: bars.open[0],
                                        lastClose: bars.close.last!)
                trades = m.totalTrades
                finalEquity = m.finalEquity
            }
            let signalTimes = measure(repeats) { _ = try! impl.signals(for: bars) }
            report("engine_sma_crossover", size: size, seconds: times, unit: "bars/s", count: Double(size),
                   extra: ["trades": "\(trades)", "final_equity": "\(finalEquity)", "signals_only_median_ms": String(format: "%.2f", median(signalTimes) * 1000)])
            try pluginOverhead(config, bars: bars, settings: settings, compiledIn: impl)
        }
        // Result encoding: the trade list of a 1M-bar run as JSON (what the store and the API write).
        do {
            let bars = SyntheticData(bars: 1_000_000).generate()
            let impl = try StrategyCatalog.make(config, file: strategy)
            let (signal, confidence) = try impl.signals(for: bars)
            let out = try BacktestEngine.run(bars: bars, first: 0, last: bars.count - 1, signal: signal, confidence: confidence, settings: settings)
            let encoder = KtrdrJSON.encoder()
            _ = encoder
            let encodeTimes = measure(repeats) { var w = FastJSON(); w.array(out.trades) { $0.trade($1) } }
            report("trades_json_encode", size: out.trades.count, seconds: encodeTimes, unit: "trades/s", count: Double(out.trades.count), extra: [:])
        }
        try modelInference()
        // Progress bridge: the cost of one engine-side write (lock, copy, version, sampling check).
        let bridge = ProgressBridge(totalBars: 10_000_000)
        let writes = 10_000_000
        let bridgeTimes = measure(repeats) {
            for i in 0..<writes {
                bridge.write(BacktestProgress(barsDone: i, barsTotal: writes, currentTime: Int64(i), equity: 1, pnl: 0, tradesClosed: 0, winningTrades: 0))
            }
        }
        report("progress_bridge_write", size: writes, seconds: bridgeTimes.map { $0 / Double(writes) * 1e9 }, unit: "ns/write", count: 1,
               extra: [:], rateIsValue: true)
        if !FileManager.default.fileExists(atPath: csv) {
            try SyntheticData(bars: 1_000_000).write(to: csv)
        }
        let bytes = Double((try FileManager.default.attributesOfItem(atPath: csv)[.size] as? NSNumber)?.intValue ?? 0)
        var rows = 0
        let loadTimes = measure(repeats) { rows = try! CSVLoader.load(path: csv).count }
        report("csv_load", size: rows, seconds: loadTimes, unit: "MB/s", count: bytes / 1e6, extra: ["bytes": "\(Int(bytes))"])
    }

    /// The same strategy through the plugin C ABI (dlopen of the built .so) against compiled in:
    /// signals alone and a whole run, alternated within each repetition so drift hits both.
    func pluginOverhead(_ config: StrategyConfig, bars: Bars, settings: ExecutionSettings, compiledIn: any SignalStrategy) throws {
        let host = PluginHost(directory: pluginsDir ?? KtrdrDefaults.pluginsDirectory)
        host.reload()
        let plugin = try StrategyProvider(plugins: host, models: ModelStore(root: "models", plugins: host))
            .make(config, file: strategy, symbol: "SYNTH", timeframe: .m1, modelPath: nil)
        let same = try plugin.signals(for: bars).signal == compiledIn.signals(for: bars).signal
        precondition(same, "plugin and compiled-in signals differ")
        func whole(_ s: any SignalStrategy) {
            let (signal, confidence) = try! s.signals(for: bars)
            _ = try! BacktestEngine.run(bars: bars, first: 0, last: bars.count - 1, signal: signal, confidence: confidence, settings: settings)
        }
        var viaPlugin = [Double](), inCore = [Double](), runPlugin = [Double](), runCore = [Double]()
        for _ in 0..<max(repeats, 9) {
            viaPlugin += measure(1) { _ = try! plugin.signals(for: bars) }
            inCore += measure(1) { _ = try! compiledIn.signals(for: bars) }
            runPlugin += measure(1) { whole(plugin) }
            runCore += measure(1) { whole(compiledIn) }
        }
        let size = bars.count
        report("signals_via_plugin_abi", size: size, seconds: viaPlugin, unit: "bars/s", count: Double(size),
               extra: ["compiled_in_median_ms": String(format: "%.3f", median(inCore) * 1000),
                       "overhead_pct": String(format: "%.2f", (median(viaPlugin) / median(inCore) - 1) * 100)])
        report("run_via_plugin_abi", size: size, seconds: runPlugin, unit: "bars/s", count: Double(size),
               extra: ["compiled_in_median_ms": String(format: "%.3f", median(runCore) * 1000),
                       "overhead_pct": String(format: "%.2f", (median(runPlugin) / median(runCore) - 1) * 100)])
    }

    /// Batched inference alone: the shipped neuro model over 1M feature rows (18 columns).
    func modelInference() throws {
        let host = PluginHost(directory: pluginsDir ?? KtrdrDefaults.pluginsDirectory)
        host.reload()
        let store = ModelStore(root: modelsDir, plugins: host)
        let dir = store.directory(strategy: "neuro_mean_reversion", symbol: "EURUSD", timeframe: .h1, version: 1)
        guard let meta = try? store.metadata(directory: dir) else { return print("model_inference: no model at \(dir); skipped") }
        let model = try store.load(directory: dir, features: meta.features)
        let rows = 1_000_000
        var state: UInt64 = 42
        let x = (0..<(rows * meta.inputSize)).map { _ -> Double in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        let times = measure(repeats) { _ = try! model.predict(x, rows: rows) }
        report("model_inference", size: rows, seconds: times, unit: "rows/s", count: Double(rows), extra: ["inputs": "\(meta.inputSize)"])
    }

    /// The SMA contract's engine run with a stop-loss and a take-profit (signals, engine, metrics;
    /// data in memory), as `scripts/bench_stops.py` compares with vectorbt's `sl_stop`/`tp_stop`.
    func stopsRun(_ text: String) throws {
        let levels = text.split(separator: ",").compactMap { Double($0) }
        guard levels.count == 2 else { throw ValidationError("--stops: expected stop,target such as 0.002,0.004") }
        let config = try StrategyLoader.load(path: strategy)
        var settings = config.executionSettings(initialCapital: 100_000, commission: 0.001, slippage: 0)
        settings.positionSize = 1.0
        settings.stopLoss = .fraction(levels[0])
        settings.takeProfit = .fraction(levels[1])
        let bars = SyntheticData(bars: 1_000_000).generate()
        let impl = try StrategyCatalog.make(config, file: strategy)
        var out: EngineOutput?
        let times = measure(repeats) {
            let (signal, confidence) = try! impl.signals(for: bars)
            out = try! BacktestEngine.run(bars: bars, first: 0, last: bars.count - 1, signal: signal, confidence: confidence, settings: settings)
        }
        var reasons = [String: Int]()
        for t in out!.trades { reasons[t.exitReason.rawValue, default: 0] += 1 }
        report("engine_with_stops", size: bars.count, seconds: times, unit: "bars/s", count: Double(bars.count),
               extra: ["trades": "\(out!.trades.count)", "final_equity": "\(out!.curve.equity.last!)",
                       "reasons": "\"" + reasons.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + "\""])
    }

    /// A grid's signals on 1M bars, each trial computing its own indicators, then through one
    /// shared IndicatorCache per repetition (its series computed inside the timing); checked equal.
    /// sma_crossover: the issue-12 grid (fast 5..50 step 5 x slow 20..200 step 10, fast < slow);
    /// rsi_mean_reversion: periods 7, 14, 21 x oversold 20..35 x overbought 65..80 (48 trials, 3 RSI series).
    func sharedIndicators() throws {
        let bars = SyntheticData(bars: 1_000_000).generate()
        var sma = [SMACrossover]()
        for fast in stride(from: 5, through: 50, by: 5) {
            for slow in stride(from: 20, through: 200, by: 10) where fast < slow { sma.append(SMACrossover(fastPeriod: fast, slowPeriod: slow)) }
        }
        try compareShared("sweep_signals", sma, bars: bars)
        var rsi = [RSIMeanReversion]()
        for period in [7, 14, 21] {
            for low in stride(from: 20.0, through: 35, by: 5) {
                for high in stride(from: 65.0, through: 80, by: 5) { rsi.append(RSIMeanReversion(period: period, oversold: low, overbought: high)) }
            }
        }
        try compareShared("rsi_sweep_signals", rsi, bars: bars)
    }

    func compareShared(_ name: String, _ grid: [some SignalStrategy], bars: Bars) throws {
        var alone = [[Int8]](), shared = [[Int8]]()
        let aloneTimes = measure(repeats) { alone = grid.map { try! $0.signals(for: bars).signal } }
        let sharedTimes = measure(repeats) {
            let cache = IndicatorCache()
            let key = IndicatorCache.BarsKey(file: "SYNTH", range: 0..<bars.count)
            shared = grid.map { try! $0.signals(for: bars, indicators: cache.source(for: bars, key: key)).signal }
        }
        guard alone == shared else { throw ValidationError("\(name): shared signals differ from those computed alone") }
        report("\(name)_alone", size: grid.count, seconds: aloneTimes, unit: "trials/s", count: Double(grid.count), extra: [:])
        report("\(name)_shared", size: grid.count, seconds: sharedTimes, unit: "trials/s", count: Double(grid.count),
               extra: ["speedup": String(format: "%.2fx", median(aloneTimes) / median(sharedTimes))])
    }

    func measure(_ n: Int, _ body: () -> Void) -> [Double] {
        body()  // warm-up: page in data, fill caches
        return (0..<n).map { _ in
            let t0 = DispatchTime.now().uptimeNanoseconds
            body()
            return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        }
    }

    func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// `rateIsValue`: `seconds` already holds the reported value (e.g. ns per call), not durations.
    func report(_ name: String, size: Int, seconds: [Double], unit: String, count: Double, extra: [String: String], rateIsValue: Bool = false) {
        let extraJSON = extra.sorted { $0.key < $1.key }.map { ",\"\($0.key)\":\($0.value)" }.joined()
        let extraText = extra.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let med = median(seconds)
        let rate = rateIsValue ? med : count / med
        if json {
            print("{\"bench\":\"\(name)\",\"size\":\(size),\"median_s\":\(med),\"min_s\":\(seconds.min()!),\"max_s\":\(seconds.max()!),\"rate\":\(rate),\"unit\":\"\(unit)\"\(extraJSON)}")
        } else if rateIsValue {
            print(String(format: "%-22@ %11d  median %9.1f %@  (min %.1f, max %.1f)", name as NSString, size, med, unit as NSString,
                         seconds.min()!, seconds.max()!))
        } else {
            let r = unit == "bars/s" ? String(format: "%.1fM bars/s", rate / 1e6) : String(format: "%.1f %@", rate, unit)
            print(String(format: "%-22@ %11d  median %9.3f ms  (min %.3f, max %.3f)  %@  %@", name as NSString, size, med * 1000,
                         seconds.min()! * 1000, seconds.max()! * 1000, r as NSString, extraText as NSString))
        }
    }
}
