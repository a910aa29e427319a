/// Training labels and the chronological split (DOMAIN.md §2 `training`).
public enum TrainingLabels {
    /// The model's output classes, in order (DOMAIN.md §5); labels are indices into it.
    public static let classes = ["BUY", "HOLD", "SELL"]
    /// Class indices in the model's output order.
    public static let buy: Int64 = 0, hold: Int64 = 1, sell: Int64 = 2
    /// No label: the look-ahead window runs past the data.
    public static let none: Int64 = -1

    /// Zigzag labels: for bar t, the first of `close[t] * (1 ± threshold)` that a later close
    /// within `lookahead` bars reaches decides BUY (up first) or SELL (down first); neither
    /// reached is HOLD. The last `lookahead` bars have no complete window and get `none`, so
    /// nothing is labelled from data that is not there. Labels look ahead by design; they are
    /// used for training only, never by a strategy.
    public static func zigzag(close: [Double], threshold: Double, lookahead: Int) -> [Int64] {
        let n = close.count
        var labels = [Int64](repeating: none, count: n)
        guard lookahead >= 1 else { return labels }
        for t in 0..<max(0, n - lookahead) {
            let base = close[t]
            guard base.isFinite, base > 0 else { continue }
            let up = base * (1 + threshold), down = base * (1 - threshold)
            var label = hold
            for k in (t + 1)...(t + lookahead) {
                if close[k] >= up { label = buy; break }
                if close[k] <= down { label = sell; break }
            }
            labels[t] = label
        }
        return labels
    }

    /// Splits `count` rows in time order into train, validation and test ranges by fraction.
    public static func split(count: Int, train: Double, validation: Double) -> (train: Range<Int>, validation: Range<Int>, test: Range<Int>) {
        let a = Int((Double(count) * train).rounded(.down))
        let b = min(count, a + Int((Double(count) * validation).rounded(.down)))
        return (0..<a, a..<b, b..<count)
    }
}
