import Foundation

/// What a user asks for. Dates are epoch seconds; `end` is inclusive.
public struct BacktestRequest: Sendable {
    public var strategy: StrategyConfig
    public var symbol: String
    public var timeframe: Timeframe
    /// nil: from the first bar of the file (indicators then warm up on the file's first bars).
    public var start: Int64?
    /// nil: to the last bar of the file.
    public var end: Int64?
    public var initialCapital: Double = 100_000
    public var commission: Double = 0.001
    public var slippage: Double = 0.0005

    public init(strategy: StrategyConfig, symbol: String, timeframe: Timeframe, start: Int64? = nil, end: Int64? = nil) {
        self.strategy = strategy
        self.symbol = symbol
        self.timeframe = timeframe
        self.start = start
        self.end = end
    }
}

/// A backtest whose every synchronous check has passed: data loaded, range resolved,
/// strategy built. Running it can only fail by cancellation.
public struct PreparedBacktest: Sendable {
    public let request: BacktestRequest
    /// The loaded series: warm-up bars followed by the requested ones.
    public let bars: Bars
    /// Index in `bars` of the first requested (traded) bar.
    public let first: Int
    public let strategy: any SignalStrategy
    public let settings: ExecutionSettings
    public let dataPath: String
    /// Indicator series shared with other runs over the same bars (a sweep's trials).
    public var indicators: (any IndicatorSource)?

    /// Bars that will be traded.
    public var tradedBars: Int { bars.count - first }
}

/// The full result: metrics, trades and equity curve.
public struct BacktestResult: Sendable, Codable {
    public var strategy: String
    public var symbol: String
    public var timeframe: String
    public var start: String
    public var end: String
    public var bars: Int
    public var warmupBars: Int
    public var settings: ExecutionSettings
    public var metrics: Metrics
    public var trades: [Trade]
    public var equityCurve: EquityCurve
    /// What the user should know about the result (a timeframe label the bars do not match);
    /// absent when nothing.
    public var warnings: [String]?

    public init(strategy: String, symbol: String, timeframe: String, start: String, end: String, bars: Int, warmupBars: Int,
                settings: ExecutionSettings, metrics: Metrics, trades: [Trade], equityCurve: EquityCurve, warnings: [String]? = nil) {
        self.warnings = warnings
        self.strategy = strategy
        self.symbol = symbol
        self.timeframe = timeframe
        self.start = start
        self.end = end
        self.bars = bars
        self.warmupBars = warmupBars
        self.settings = settings
        self.metrics = metrics
        self.trades = trades
        self.equityCurve = equityCurve
    }
}

/// Prepares and runs backtests. `prepare` does every check that can be made before
/// starting (names, dates, data, warm-up), so an API can answer synchronously.
public enum Backtester {
    /// `{dataDirectory}/{SYMBOL}_{timeframe}.csv`, after checking the symbol.
    public static func dataPath(symbol: String, timeframe: Timeframe, dataDirectory: String) throws(KtrdrError) -> String {
        try Names.check(symbol, field: "symbol")
        return (dataDirectory as NSString).appendingPathComponent("\(symbol)_\(timeframe.rawValue).csv")
    }

    /// Loads a data file; the daemon passes a cache, everything else reads the file.
    public typealias DataLoader = @Sendable (String) throws(KtrdrError) -> Bars

    /// `strategy` is the implementation of `request.strategy` (a loaded plugin, or one
    /// compiled in by a benchmark or test).
    /// `indicators`, when given, serves (and keeps) the indicator series of these bars for
    /// other runs over the same file and range.
    public static func prepare(_ request: BacktestRequest, strategy: any SignalStrategy, dataDirectory: String,
                               indicators: IndicatorCache? = nil, load: DataLoader) throws(KtrdrError) -> PreparedBacktest {
        let settings = request.strategy.executionSettings(initialCapital: request.initialCapital, commission: request.commission,
                                                          slippage: request.slippage)
        if let problem = settings.problems().first { throw .invalidRequest(problem) }
        if let s = request.start, let e = request.end, e < s {
            throw .invalidRequest("end_date \(UTCTime.iso(e)) is before start_date \(UTCTime.iso(s))")
        }
        let path = try dataPath(symbol: request.symbol, timeframe: request.timeframe, dataDirectory: dataDirectory)
        let all = try load(path)
        let firstRequested = request.start.map { all.firstIndex(atOrAfter: $0) } ?? 0
        let lastRequested = (request.end.map { all.firstIndex(atOrAfter: $0 + 1) } ?? all.count) - 1
        let warmup = max(request.strategy.historyRequired, strategy.warmupBars, settings.exitWarmup)
        try checkRange(request, path: path, warmup: warmup,
                       RangeFacts(barsBeforeStart: firstRequested, barsInRange: max(0, lastRequested - firstRequested + 1),
                                  firstRequestedTime: firstRequested < all.count ? all.timestamps[firstRequested] : nil,
                                  fileSpan: all.timestamps.first.map { $0...all.timestamps[all.count - 1] }))
        let loadFrom = request.start != nil ? firstRequested - warmup : 0
        let bars = loadFrom == 0 && lastRequested == all.count - 1 ? all : all.slice(loadFrom..<(lastRequested + 1))
        let shared = indicators?.source(for: bars, key: .init(file: path, range: loadFrom..<(lastRequested + 1)))
        return PreparedBacktest(request: request, bars: bars, first: firstRequested - loadFrom, strategy: strategy,
                                settings: settings, dataPath: path, indicators: shared)
    }

    /// What the range checks need to know of a data file: bars before the first requested one
    /// and bars in the requested range, each exact below `warmup + 1` (a probe that reads only
    /// part of the file may stop counting there), and the first requested bar's time.
    public struct RangeFacts: Sendable {
        public var barsBeforeStart: Int
        public var barsInRange: Int
        public var firstRequestedTime: Int64?
        /// The times of the file's first and last bars, when known: `insufficient_data` states them.
        public var fileSpan: ClosedRange<Int64>?

        public init(barsBeforeStart: Int, barsInRange: Int, firstRequestedTime: Int64?, fileSpan: ClosedRange<Int64>? = nil) {
            self.fileSpan = fileSpan
            self.barsBeforeStart = barsBeforeStart
            self.barsInRange = barsInRange
            self.firstRequestedTime = firstRequestedTime
        }
    }

    /// The checks of `prepare` that need only positions in the file, with its messages: a
    /// start call answers them from a probe of the file, before the bars are loaded.
    public static func checkRange(_ request: BacktestRequest, path: String, warmup: Int, _ facts: RangeFacts) throws(KtrdrError) {
        let range = "\(request.symbol) \(request.timeframe.rawValue) \(request.start.map(UTCTime.iso) ?? "file start")..\(request.end.map(UTCTime.iso) ?? "file end") in \(path)"
            + (facts.fileSpan.map { "; the file holds bars from \(UTCTime.iso($0.lowerBound)) to \(UTCTime.iso($0.upperBound))" } ?? "; the file holds no bars")
        guard facts.barsInRange > 0, let firstTime = facts.firstRequestedTime else {
            throw .insufficientData(needed: 1, found: 0, detail: "no bars in the requested range \(range)")
        }
        if request.start != nil {
            guard facts.barsBeforeStart >= warmup else {
                throw .insufficientData(needed: warmup, found: facts.barsBeforeStart,
                                        detail: "warm-up bars before \(UTCTime.iso(firstTime)) for \(range); history_required is \(warmup)")
            }
        } else if facts.barsInRange < warmup + 1 {
            throw .insufficientData(needed: warmup + 1, found: facts.barsInRange, detail: "bars for \(range)")
        }
    }

    /// Computes signals over the loaded series, runs the engine on the requested bars and
    /// derives the metrics.
    public static func run(_ p: PreparedBacktest, progress: ProgressSink? = nil, cancel: CancellationToken? = nil) throws(KtrdrError) -> BacktestResult {
        let (signal, confidence) = try p.strategy.signals(for: p.bars, indicators: p.indicators)
        if cancel?.isCancelled == true { throw .cancelled }
        let last = p.bars.count - 1
        let output = try BacktestEngine.run(bars: p.bars, first: p.first, last: last, signal: signal, confidence: confidence,
                                            settings: p.settings, progress: progress, cancel: cancel)
        let ts = p.bars.timestamps
        if let bad = output.curve.equity.firstIndex(where: { !$0.isFinite }) {  // never a result that cannot be stated
            throw .dataInvalid(file: p.dataPath, line: 0, column: "close",
                               message: "the bar of \(UTCTime.iso(output.curve.timestamps[bad])) takes equity to \(output.curve.equity[bad]) "
                                   + "(close \(p.bars.close[p.first + bad])): prices of this size overflow double arithmetic")
        }
        let spanStart = p.request.start ?? ts[p.first]
        let spanEnd = p.request.end ?? ts[last]
        let traded = ts[p.first...last]
        let perYear = Metrics.barsPerYear(traded, nominal: p.request.timeframe.barsPerYear)
        let metrics = Metrics.compute(output: output, initialCapital: p.settings.initialCapital, barsPerYear: perYear,
                                      spanSeconds: spanEnd - spanStart, firstOpen: p.bars.open[p.first], lastClose: p.bars.close[last])
        let warnings = Metrics.timeframeWarning(traded, timeframe: p.request.timeframe, barsPerYear: perYear).map { [$0] }
        return BacktestResult(strategy: p.request.strategy.name, symbol: p.request.symbol, timeframe: p.request.timeframe.rawValue,
                              start: UTCTime.iso(ts[p.first]), end: UTCTime.iso(ts[last]), bars: last - p.first + 1, warmupBars: p.first,
                              settings: p.settings, metrics: metrics, trades: output.trades, equityCurve: output.curve, warnings: warnings)
    }
}
