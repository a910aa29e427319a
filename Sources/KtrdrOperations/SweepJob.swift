import Foundation
import KtrdrAPI
import KtrdrCore
import KtrdrFiles
import KtrdrPlugins

/// A validated sweep: the strategy file's text (as read when the sweep was accepted), the
/// run fields every trial shares, and the trials. A trial is only its index and parameter
/// values, resolved into a full backtest by `SweepRunner`: small and serialisable, so that
/// remote workers can take trials in batches later.
struct SweepJob: Sendable {
    let request: SweepRequest
    let strategyFile: String
    let strategySource: String
    /// The fixed part of every trial: dates, costs, and the strategy with the fixed values.
    let base: BacktestRequest
    let dataPath: String
    let names: [String]
    let trials: [[Double]]
    let rank: RankMetric
    let fixed: StrategyOverrides
    /// Trials stored before a restart; a resumed sweep runs only the others.
    let done: Set<Int>

    /// At most this many trials per sweep (10^5: a 1M-bar sweep of them takes about half an
    /// hour on 2 cores); bigger grids are refused before anything runs.
    static let maximumTrials = 100_000

    func overrides(for trial: Int) -> StrategyOverrides {
        var o = fixed
        for (k, name) in names.enumerated() { o.params[name] = trials[trial][k] }
        return o
    }

    func params(for trial: Int) -> [String: Double] {
        Dictionary(uniqueKeysWithValues: zip(names, trials[trial]))
    }
}

extension OperationManager {
    /// Every check of a sweep that can be made before it exists: the run fields as a backtest's,
    /// the grid (names, values, the condition, its size), and the first trial's strategy through
    /// the plugin's own checks (an unknown or refused parameter is a 422 naming it).
    static func prepareSweep(_ r: SweepRequest, source: String? = nil, done: Set<Int> = [], config: OperationsConfig) throws(KtrdrError) -> SweepJob {
        try Names.check(r.run.strategyName, field: "strategy_name")
        try Names.check(r.run.symbol, field: "symbol")
        _ = try Names.timeframe(r.run.timeframe)  // before the grid, as the order of a backtest's checks
        let file = try StrategyLoader.path(for: r.run.strategyName, in: config.strategiesDirectory)
        let text: String
        if let source { text = source } else {
            guard FileManager.default.fileExists(atPath: file) else { throw .strategyNotFound(name: r.run.strategyName, path: file, available: Existing.strategies(in: config.strategiesDirectory)) }
            do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
                throw .io(path: file, message: "cannot read strategy file: \(error.localizedDescription)")
            }
        }
        guard !r.grid.isEmpty else { throw .invalidRequest("grid: no parameters to sweep (give at least one, e.g. \"fast_period\": \"5:50:5\")") }
        let names = r.grid.keys.sorted()
        for name in names where r.run.params?[name] != nil {
            throw .invalidRequest("params.\(name) is both swept (grid) and fixed (params); give it in one place")
        }
        var axes = [ParameterAxis]()
        for name in names {
            guard Names.isValid(name) else { throw .invalidRequest("grid: invalid parameter name '\(name)': expected [A-Za-z0-9._-]{1,32}") }
            axes.append(try r.grid[name]!.axis(name))
        }
        let space = ParameterSpace(axes: axes, condition: try r.where.map { w throws(KtrdrError) in try Condition(w, names: names) })
        let trials: [[Double]]
        switch r.method ?? "grid" {
        case "grid": trials = try space.grid(limit: SweepJob.maximumTrials)
        case "random":
            guard let samples = r.samples else { throw .invalidRequest("samples: required with method random") }
            trials = try space.random(samples: samples, seed: r.seed ?? 0, limit: SweepJob.maximumTrials)
        case let other: throw .invalidRequest("method: '\(other)': expected grid or random")
        }
        guard !trials.isEmpty else {
            throw .invalidRequest("no trial meets the condition '\(r.where ?? "")' among the \(ParameterSpace.grouped(space.gridSize)) grid points")
        }
        let rank = try RankMetric(r.rank ?? "sharpe_ratio", order: r.rankOrder)
        let fixed = StrategyOverrides(params: r.run.params ?? [:], fields: r.run.overrides ?? [:])

        // The run fields, checked exactly as a single backtest's (with the first trial's values).
        var first = r.run
        first.params = (r.run.params ?? [:]).merging(Dictionary(uniqueKeysWithValues: zip(names, trials[0]))) { $1 }
        let job = try prepare(first, config: config, source: text)
        var base = job.request
        base.strategy = try StrategyLoader.parse(text, fileName: file, expectedName: r.run.strategyName, overrides: fixed)
        return SweepJob(request: r, strategyFile: file, strategySource: text, base: base, dataPath: job.spec.dataPath, names: names,
                        trials: trials, rank: rank, fixed: fixed, done: done)
    }
}
