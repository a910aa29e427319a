import Foundation
import KtrdrCore
import Synchronization

/// Parsed data files kept in memory between operations, keyed by path and validated by the
/// file's size and modification time (an edited file is re-read). Least recently used files
/// are evicted beyond `capacityBytes`. Bars are immutable copy-on-write columns, so running
/// operations share them without copying.
public final class DataCache: Sendable {
    private struct Entry {
        var bars: Bars
        var size: Int64
        var modified: Double
        var lastUse: UInt64
        var bytes: Int { bars.count * 48 }
    }

    private let state = Mutex<(entries: [String: Entry], clock: UInt64, hits: Int, misses: Int)>(([:], 0, 0, 0))
    public let capacityBytes: Int

    public init(capacityBytes: Int) { self.capacityBytes = capacityBytes }

    public var stats: (files: Int, bytes: Int, hits: Int, misses: Int) {
        state.withLock { s in (s.entries.count, s.entries.values.reduce(0) { $0 + $1.bytes }, s.hits, s.misses) }
    }

    public func load(_ path: String) throws(KtrdrError) -> Bars {
        var st = stat()
        guard stat(path, &st) == 0 else { return try CSVLoader.load(path: path) }  // the loader reports the error
        let size = Int64(st.st_size)
        let modified = Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) * 1e-9
        if let hit = state.withLock({ s -> Bars? in
            s.clock += 1
            guard var e = s.entries[path], e.size == size, e.modified == modified else { return nil }
            e.lastUse = s.clock
            s.entries[path] = e
            s.hits += 1
            return e.bars
        }) { return hit }
        let bars = try CSVLoader.load(path: path)
        state.withLock { s in
            s.misses += 1
            s.clock += 1
            s.entries[path] = Entry(bars: bars, size: size, modified: modified, lastUse: s.clock)
            var total = s.entries.values.reduce(0) { $0 + $1.bytes }
            while total > capacityBytes, s.entries.count > 1,
                  let victim = s.entries.filter({ $0.key != path }).min(by: { $0.value.lastUse < $1.value.lastUse }) {
                total -= victim.value.bytes
                s.entries.removeValue(forKey: victim.key)
            }
        }
        return bars
    }
}
