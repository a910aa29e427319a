import KtrdrAPI
import KtrdrCore

/// Labelled feature rows in time order, and their train/validation/test split.
///
/// Rows are those whose features are all warm and whose label window is complete. Zigzag
/// labels look `label_lookahead` bars ahead, so the last rows of the train segment would be
/// labelled by prices inside validation: a purge gap of `label_lookahead` rows is dropped at
/// the end of train and of validation, so no evaluated accuracy sees its own future.
struct Dataset {
    let featureNames: [String]
    /// Row-major features of the kept rows.
    let x: [Double]
    let y: [Int64]
    let train: Range<Int>
    let validation: Range<Int>
    let test: Range<Int>
    /// BUY, HOLD, SELL counts over kept rows.
    let labelCounts: [Int]
    /// First and last bar time of the train, validation and test rows: a backtest after the
    /// validation end is out of sample.
    let periods: [String: String]

    init(_ job: TrainingJob) {
        let features = FeatureBuilder.build(job.config, bars: job.bars)
        let labels = TrainingLabels.zigzag(close: job.bars.close, threshold: job.training.zigzagThreshold,
                                           lookahead: job.training.labelLookahead)
        let width = features.columns
        let first = features.firstCompleteRow()
        let kept = (first..<features.rows).filter { labels[$0] >= 0 }
        let parts = TrainingLabels.split(count: kept.count, train: job.training.trainSplit, validation: job.training.validationSplit)
        let gap = job.training.labelLookahead
        let trainRows = parts.train.lowerBound..<max(parts.train.lowerBound, parts.train.upperBound - gap)
        let valRows = parts.validation.lowerBound..<max(parts.validation.lowerBound, parts.validation.upperBound - gap)
        let order = Array(trainRows) + Array(valRows) + Array(parts.test)
        var x = [Double](), y = [Int64]()
        x.reserveCapacity(order.count * width)
        for i in order {
            let r = kept[i]
            x.append(contentsOf: features.values[(r * width)..<((r + 1) * width)])
            y.append(labels[r])
        }
        featureNames = features.names
        self.x = x
        self.y = y
        train = 0..<trainRows.count
        validation = trainRows.count..<(trainRows.count + valRows.count)
        test = validation.upperBound..<order.count
        labelCounts = (0..<3).map { c in y.filter { $0 == Int64(c) }.count }
        func period(_ rows: [Int]) -> String {
            guard let a = rows.first, let b = rows.last else { return "" }
            return "\(UTCTime.iso(job.bars.timestamps[kept[a]]))..\(UTCTime.iso(job.bars.timestamps[kept[b]]))"
        }
        periods = ["train": period(Array(trainRows)), "validation": period(Array(valRows)), "test": period(Array(parts.test))]
    }
}
