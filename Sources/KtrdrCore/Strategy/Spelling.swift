/// "Did you mean" for names: the candidate at the smallest edit distance, if it is close.
public enum Spelling {
    /// A candidate that starts with `word` (`sharpe` → `sharpe_ratio`), else the one at the
    /// smallest edit distance when that is small (`symbl` → `symbol`).
    public static func closest(to word: String, in candidates: [String]) -> String? {
        if word.utf8.count >= 3, let prefixed = candidates.filter({ $0.hasPrefix(word) }).min(by: { $0.utf8.count < $1.utf8.count }) {
            return prefixed
        }
        let scored = candidates.map { ($0, distance(Array(word.utf8), Array($0.utf8))) }
        guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
        return best.1 <= max(2, word.utf8.count / 3) ? best.0 : nil
    }

    static func distance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        var previous = Array(0...b.count), current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...max(1, a.count) where !a.isEmpty {
            current[0] = i
            for j in 1...max(1, b.count) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return a.isEmpty ? b.count : (b.isEmpty ? a.count : previous[b.count])
    }
}
