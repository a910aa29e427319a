import Foundation
import KtrdrAPI
import KtrdrCore
import Synchronization
import KtrdrFiles

/// Parsed data files kept in memory between operations, keyed by path and validated by the
/// file's identity (device, inode, size, modification and change times: an edit that keeps
/// size and mtime, as `cp -p` or `rsync -t` do, still changes the ctime). Least recently used
/// files are evicted beyond `capacityBytes`. Concurrent loads of one file parse it once: the
/// first caller reads, the others wait for its bars (single flight). Bars are immutable
/// copy-on-write columns, so running operations share them without copying.
public final class DataCache: Sendable {
    struct Identity: Equatable, Sendable {
        var device: UInt64, inode: UInt64, size: Int64, modified: Int64, changed: Int64

        init?(_ path: String) {
            var st = stat()
            guard stat(path, &st) == 0 else { return nil }
            device = UInt64(st.st_dev); inode = UInt64(st.st_ino); size = Int64(st.st_size)
            modified = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
            changed = Int64(st.st_ctim.tv_sec) * 1_000_000_000 + Int64(st.st_ctim.tv_nsec)
        }
    }

    private struct Entry {
        var bars: Bars
        var identity: Identity
        var lastUse: UInt64
        var bytes: Int { bars.count * 48 }
    }

    /// One parse in progress; later callers for the same file and identity wait on it.
    private final class Flight: Sendable {
        let identity: Identity
        private let outcome = Mutex<Result<Bars, KtrdrError>?>(nil)
        private let done = DispatchSemaphore(value: 0)
        init(_ identity: Identity) { self.identity = identity }

        func finish(_ r: Result<Bars, KtrdrError>) {
            outcome.withLock { $0 = r }
            done.signal()
        }

        func wait() -> Result<Bars, KtrdrError> {
            done.wait()
            done.signal()  // let the next waiter through
            return outcome.withLock { $0! }
        }
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var flights: [String: Flight] = [:]
        var clock: UInt64 = 0
        var hits = 0, misses = 0, parses = 0
    }

    private let state = Mutex(State())
    public let capacityBytes: Int

    public init(capacityBytes: Int) { self.capacityBytes = capacityBytes }

    public var stats: (files: Int, bytes: Int, hits: Int, misses: Int, parses: Int) {
        state.withLock { s in (s.entries.count, s.entries.values.reduce(0) { $0 + $1.bytes }, s.hits, s.misses, s.parses) }
    }

    private enum Plan { case hit(Bars), wait(Flight), parse(Flight) }

    /// The bars of `path` if they are in memory and the file has not changed (no parse).
    public func cached(_ path: String) -> Bars? {
        guard let identity = Identity(path) else { return nil }
        return state.withLock { s in s.entries[path].flatMap { $0.identity == identity ? $0.bars : nil } }
    }

    public func load(_ path: String, observer: CSVLoader.Observer? = nil) throws(KtrdrError) -> Bars {
        guard let identity = Identity(path) else { return try CSVLoader.load(path: path, observer: observer) }  // the loader reports the error
        let plan = state.withLock { s -> Plan in
            s.clock += 1
            if var e = s.entries[path], e.identity == identity {
                e.lastUse = s.clock
                s.entries[path] = e
                s.hits += 1
                return .hit(e.bars)
            }
            s.misses += 1
            if let f = s.flights[path], f.identity == identity { return .wait(f) }
            let f = Flight(identity)
            s.flights[path] = f
            s.parses += 1
            return .parse(f)
        }
        switch plan {
        case let .hit(bars): return bars
        case let .wait(flight):
            let outcome = flight.wait()
            if case .failure(.cancelled) = outcome { return try load(path, observer: observer) }  // the reader was cancelled, not us
            return try outcome.get()
        case let .parse(flight):
            let result: Result<Bars, KtrdrError>
            do throws(KtrdrError) { result = .success(try CSVLoader.load(path: path, observer: observer)) } catch { result = .failure(error) }
            state.withLock { s in
                if s.flights[path] === flight { s.flights[path] = nil }
                if case let .success(bars) = result { insert(&s, path, Entry(bars: bars, identity: identity, lastUse: s.clock)) }
            }
            flight.finish(result)
            return try result.get()
        }
    }

    private func insert(_ s: inout State, _ path: String, _ entry: Entry) {
        s.entries[path] = entry
        var total = s.entries.values.reduce(0) { $0 + $1.bytes }
        while total > capacityBytes, s.entries.count > 1,
              let victim = s.entries.filter({ $0.key != path }).min(by: { $0.value.lastUse < $1.value.lastUse }) {
            total -= victim.value.bytes
            s.entries.removeValue(forKey: victim.key)
        }
    }
}
