/// A row-major `[rows x names.count]` matrix of Doubles: the model's input.
public struct FeatureMatrix: Sendable, Equatable {
    public var names: [String]
    public var rows: Int
    public var values: [Double]

    public var columns: Int { names.count }
    public subscript(row: Int, column: Int) -> Double { values[row * names.count + column] }
}

/// The one place that decides the ordered feature list and fills the feature matrix, used
/// by training and inference alike (**Decision**, DOMAIN.md §4).
public enum FeatureBuilder {
    /// `{feature_id}_{set}` in file order, then `{name}_lag_{k}` for k = 1…lookback.
    public static func featureNames(for config: StrategyConfig) -> [String] {
        let base = config.fuzzySets.flatMap { input in input.sets.map { "\(input.featureId)_\($0.name)" } }
        let lookback = config.model?.lookbackPeriods ?? 0
        guard lookback > 0 else { return base }
        return base + (1...lookback).flatMap { k in base.map { "\($0)_lag_\(k)" } }
    }

    /// Every indicator output over the whole series, by output name.
    public static func indicatorColumns(_ config: StrategyConfig, bars: Bars) -> [String: [Double]] {
        var out = [String: [Double]]()
        for spec in config.indicators {
            for (name, values) in spec.compute(bars) { out[name] = values }
        }
        return out
    }

    /// Builds the feature matrix for every bar of `bars`. Rows before the indicators (and
    /// lags) are warm contain NaN; callers use rows from the warm-up on.
    public static func build(_ config: StrategyConfig, bars: Bars, indicators: [String: [Double]]? = nil) -> FeatureMatrix {
        let columns = indicators ?? indicatorColumns(config, bars: bars)
        let names = featureNames(for: config)
        let rows = bars.count
        let width = names.count
        let baseWidth = config.fuzzySets.reduce(0) { $0 + $1.sets.count }
        var values = [Double](repeating: .nan, count: rows * width)
        var column = 0
        values.withUnsafeMutableBufferPointer { m in
            for input in config.fuzzySets {
                let raw = columns[input.featureId] ?? [Double](repeating: .nan, count: rows)
                var x = raw
                if case let .priceRatio(reference) = input.transform, let ref = bars.column(reference) {
                    for t in 0..<rows { x[t] = ref[t] / raw[t] }
                }
                for (_, membership) in input.sets {
                    for t in 0..<rows { m[t * width + column] = membership.degree(x[t]) }
                    column += 1
                }
            }
            let lookback = config.model?.lookbackPeriods ?? 0
            if lookback > 0 {
                for k in 1...lookback {
                    for t in k..<max(rows, k) {
                        for j in 0..<baseWidth { m[t * width + k * baseWidth + j] = m[(t - k) * width + j] }
                    }
                }
            }
        }
        return FeatureMatrix(names: names, rows: rows, values: values)
    }
}

extension FeatureMatrix {
    /// The first row from which every row has only finite features (features warm up once and
    /// stay warm), or `rows` when none does.
    public func firstCompleteRow() -> Int {
        var first = 0
        for r in 0..<rows {
            for c in 0..<columns where !values[r * columns + c].isFinite { first = r + 1; break }
        }
        return first
    }
}
