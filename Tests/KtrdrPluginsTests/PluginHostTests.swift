import Foundation
import KtrdrAPI
import KtrdrCore
import KtrdrTestSupport
import XCTest
import KtrdrFiles
import KtrdrPluginABI

@testable import KtrdrPlugins

/// The host against the real plugin files `swift build` produced next to this test binary.
final class PluginHostTests: XCTestCase {
    static let root = TestPaths.root
    static let built = TestPaths.builtPlugins

    var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "ktrdr-plugins-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func install(_ name: String, as target: String? = nil) throws {
        try FileManager.default.copyItem(atPath: Self.built + "/libktrdr_plugin_\(name).so", toPath: dir + "/" + (target ?? "libktrdr_plugin_\(name).so"))
    }

    func testLoadsChecksAndReportsShippedPlugins() throws {
        try install("sma_crossover")
        try install("rsi_mean_reversion")
        let host = PluginHost(directory: dir)
        let report = host.reload()
        XCTAssertEqual(report.problems, [])
        XCTAssertEqual(report.loaded.map(\.name).sorted(), ["rsi_mean_reversion", "sma_crossover"])
        let sma = try host.plugin(named: "sma_crossover", kind: .strategy)
        XCTAssertEqual(sma.descriptor.abi, PluginDescriptor.hostABI)
        XCTAssertEqual(PluginDescriptor.signatureFields(sma.descriptor.buildSignature)["swift"], BuildInfo.swiftVersion)
        XCTAssertEqual(host.reload().loaded, [], "unchanged files are not loaded again")
        XCTAssertThrowsError(try host.plugin(named: "sma_crossover", kind: .model)) { error in
            XCTAssertEqual((error as? KtrdrError)?.code, "plugin_not_found")
        }
        XCTAssertThrowsError(try host.plugin(named: "nope", kind: .strategy)) { error in
            XCTAssertEqual(error as? KtrdrError, .pluginNotFound(name: "nope", available: ["rsi_mean_reversion", "sma_crossover"]))
        }
    }

    func testConcurrentReloadsLoadAFileOnce() throws {
        try install("sma_crossover")
        for _ in 0..<5 {
            let host = PluginHost(directory: dir)
            DispatchQueue.concurrentPerform(iterations: 4) { _ in host.reload() }
            XCTAssertEqual(host.list().plugins.map(\.generation), [1], "one generation, however many scans ran at once")
        }
    }

    /// On demand (one-shot commands): only the plugin asked for is loaded, by its file name
    /// first; an unknown name loads the rest to say what exists.
    func testOnDemandLoadsOnlyWhatIsAskedFor() throws {
        try install("sma_crossover")
        try install("rsi_mean_reversion", as: "custom_name.so")
        let host = PluginHost(directory: dir, onDemand: true)
        XCTAssertEqual(host.list().plugins, [])
        _ = try host.plugin(named: "sma_crossover", kind: .strategy)
        XCTAssertEqual(host.list().plugins.map(\.name), ["sma_crossover"])
        _ = try host.plugin(named: "rsi_mean_reversion", kind: .strategy)  // not by convention: found by a scan
        XCTAssertThrowsError(try host.plugin(named: "nope", kind: .strategy)) { error in
            XCTAssertEqual(error as? KtrdrError, .pluginNotFound(name: "nope", available: ["rsi_mean_reversion", "sma_crossover"]))
        }
    }

    /// A second build of the same plugin becomes generation 2 for new work; generation 1 stays
    /// loaded and keeps computing for whoever holds it.
    func testReloadAddsAGenerationBesideTheOldOne() throws {
        try install("sma_crossover")
        let host = PluginHost(directory: dir)
        host.reload()
        let first = try host.plugin(named: "sma_crossover", kind: .strategy)
        first.acquire("op_a")
        try install("sma_crossover", as: "libktrdr_plugin_sma_crossover_rebuilt.so")
        XCTAssertEqual(host.reload().loaded.map(\.generation), [2])
        let second = try host.plugin(named: "sma_crossover", kind: .strategy)
        XCTAssertEqual(second.generation, 2)
        let statuses = host.list().plugins
        XCTAssertEqual(statuses.map(\.generation), [1, 2])
        XCTAssertEqual(statuses.map(\.current), [false, true])
        XCTAssertEqual(statuses[0].operations, ["op_a"])

        let path = Self.root + "/strategies/sma_crossover.yaml"
        let config = try StrategyLoader.load(path: path)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let bars = try CSVLoader.load(path: Self.root + "/data/GOOG_1d.csv")
        let a = try PluginStrategy(plugin: first, configText: text, configPath: path, model: nil).signals(for: bars)
        let b = try PluginStrategy(plugin: second, configText: text, configPath: path, model: nil).signals(for: bars)
        XCTAssertEqual(a.signal, b.signal)
        XCTAssertEqual(a.signal.filter { $0 != 0 }.count, 66, "33 round trips on GOOG 1d")
        XCTAssertEqual(config.plugin, "sma_crossover")
    }

    func testBadFilesAreRefusedWithTheirReasonAndChangeNothing() throws {
        try install("sma_crossover")
        try Data("not a shared object".utf8).write(to: URL(fileURLWithPath: dir + "/broken.so"))
        // A real shared library that is not a ktrdr plugin (the copy is a file, not a symlink).
        let sqlite = try XCTUnwrap(realpath("/usr/lib/x86_64-linux-gnu/libsqlite3.so.0", nil))
        defer { free(sqlite) }
        try FileManager.default.copyItem(atPath: String(cString: sqlite), toPath: dir + "/libsqlite3.so")
        let host = PluginHost(directory: dir)
        let report = host.reload()
        XCTAssertEqual(report.loaded.map(\.name), ["sma_crossover"])
        let reasons = Dictionary(uniqueKeysWithValues: report.problems.map { (($0.file as NSString).lastPathComponent, $0.message) })
        XCTAssertTrue(reasons["broken.so"]?.hasPrefix("dlopen failed") == true, "\(reasons)")
        XCTAssertTrue(reasons["libsqlite3.so"]?.contains("not a ktrdr plugin") == true, "\(reasons)")
        XCTAssertEqual(host.reload().problems.count, 2, "refusals are remembered until the file changes")
    }

    /// A plugin's configuration errors come back with every YAML path, as the core reports them.
    func testPluginConfigurationErrorsKeepTheirPaths() throws {
        try install("sma_crossover")
        let host = PluginHost(directory: dir)
        host.reload()
        let yaml = "name: s\nplugin: sma_crossover\nparams: {fast_period: 30, slow_period: 10, colour: 3}\ndata: {symbols: [A], timeframes: [1d]}\n"
        XCTAssertThrowsError(try PluginStrategy(plugin: host.plugin(named: "sma_crossover", kind: .strategy), configText: yaml,
                                                configPath: "s.yaml", model: nil)) { error in
            guard case let .strategyInvalid(file, issues) = error as? KtrdrError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, "s.yaml")
            XCTAssertEqual(issues.map(\.path), ["params.colour"])
        }
    }

    /// ABI 1.1: a plugin asks the host for shared indicator series; its signals are the same
    /// as when it computes its own, and the host computes each series once for all trials.
    func testSharedIndicatorsCrossTheABIWithTheSameSignals() throws {
        try install("sma_crossover")
        try install("rsi_mean_reversion")
        let host = PluginHost(directory: dir)
        host.reload()
        let close = SyntheticData(bars: 40_000, seed: 21).generate().close
        let bars = Bars(timestamps: (0..<close.count).map(Int64.init), open: close, high: close, low: close, close: close,
                        volume: [Double](repeating: 1, count: close.count))
        let cache = IndicatorCache()
        let key = IndicatorCache.BarsKey(file: "SYNTH", range: 0..<bars.count)
        let files = ["fast_period: 5, slow_period: 20", "fast_period: 5, slow_period: 40", "fast_period: 10, slow_period: 40"]
        for params in files {
            let yaml = "name: s\nplugin: sma_crossover\nparams: {\(params)}\ndata: {symbols: [A], timeframes: [1d]}\n"
            let strategy = try PluginStrategy(plugin: host.plugin(named: "sma_crossover", kind: .strategy), configText: yaml, configPath: "s.yaml", model: nil)
            let shared = try strategy.signals(for: bars, indicators: cache.source(for: bars, key: key)).signal
            XCTAssertEqual(shared, try strategy.signals(for: bars).signal, params)
            XCTAssertGreaterThan(shared.filter { $0 != 0 }.count, 100)
        }
        XCTAssertEqual(cache.computedCount, 4, "SMA 5, 10, 20 and 40, once each for three trials")
        let rsiYaml = "name: r\nplugin: rsi_mean_reversion\nparams: {period: 9}\ndata: {symbols: [A], timeframes: [1d]}\n"
        let rsi = try PluginStrategy(plugin: host.plugin(named: "rsi_mean_reversion", kind: .strategy), configText: rsiYaml, configPath: "r.yaml", model: nil)
        let viaHost = try rsi.signals(for: bars, indicators: cache.source(for: bars, key: key))
        let alone = try rsi.signals(for: bars)
        XCTAssertEqual(viaHost.signal, alone.signal)
        XCTAssertEqual(viaHost.confidence.map(\.bitPattern), alone.confidence.map(\.bitPattern))
        XCTAssertEqual(cache.computedCount, 5)
    }

    /// What a plugin sends through `ktrdr_indicator_host.series` is checked field by field.
    func testIndicatorRequestsFromPluginsAreChecked() throws {
        let bars = Bars(timestamps: [0, 1, 2], open: [1, 2, 3], high: [1, 2, 3], low: [1, 2, 3], close: [1, 2, 3], volume: [1, 1, 1])
        let lender = IndicatorLender(IndicatorCache().source(for: bars, key: .init(file: "F", range: 0..<3)))
        func ask(_ kind: String, _ names: [String], _ values: [Double], output: Int64 = 0) -> (UnsafePointer<Double>?, String) {
            var error = ktrdr_error()
            let cNames = names.map { strdup($0) }
            defer { cNames.forEach { free($0) } }
            let pointer = kind.withCString { k in
                cNames.map { UnsafePointer($0) }.withUnsafeBufferPointer { n in
                    values.withUnsafeBufferPointer { v in
                        var request = ktrdr_indicator_request(kind: k, param_names: n.baseAddress, param_values: v.baseAddress,
                                                              param_count: Int64(names.count), source: nil, output: output)
                        return lender.series(&request, &error)
                    }
                }
            }
            return (pointer, String(cString: ktrdr_error_message(&error)))
        }
        let good = ask("sma", ["period"], [2])
        XCTAssertEqual(good.0.map { Array(UnsafeBufferPointer(start: $0, count: 3)) }?.dropFirst(), [1.5, 2.5])
        XCTAssertTrue(ask("sma", ["period"], [-1]).1.contains("SMA period = -1: expected a whole number in 1…10000"))
        XCTAssertTrue(ask("nope", [], []).1.contains("unknown indicator 'nope'"))
        XCTAssertTrue(ask("macd", [], [], output: 7).1.contains("MACD output 7"))
        XCTAssertNil(ask("sma", ["colour"], [1]).0)
        XCTAssertNil(lender.series(nil, nil))
    }
}
