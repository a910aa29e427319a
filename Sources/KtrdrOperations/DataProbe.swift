import Foundation
import KtrdrAPI
import KtrdrCore
import KtrdrFiles

/// Answers a start call's data checks from a few reads of the file instead of parsing it:
/// the header, then binary searches on byte offsets for the requested range (timestamps
/// strictly increase, so the first line at or after a time is found in O(log size) reads),
/// then a count of at most `warmup + 1` lines around it. A 10M-bar file is checked in
/// milliseconds; its bars are loaded later, as the operation's first phase.
///
/// Returns nil when the file is not in a shape the probe can read cheaply (a timestamp it
/// cannot parse, an unreadable chunk): the caller then loads the file, whose parser names the
/// line and column of the defect.
struct DataProbe {
    private let fd: Int32
    private let size: Int
    private let dataStart: Int
    private let timeField: Int

    static func facts(path: String, request: BacktestRequest, warmup: Int) throws(KtrdrError) -> Backtester.RangeFacts? {
        try probing(path) { $0.facts(start: request.start, end: request.end, warmup: warmup) }
    }

    /// Bars between `start` and `end` (inclusive), counting at most `cap`; nil when the
    /// probe cannot read the file cheaply.
    static func count(path: String, start: Int64?, end: Int64?, upTo cap: Int) throws(KtrdrError) -> Int? {
        try probing(path) { $0.facts(start: start, end: end, warmup: max(0, cap - 1))?.barsInRange }
    }

    /// Opens the file, probes it and answers from the probe; nil when it cannot be probed cheaply.
    private static func probing<T>(_ path: String, _ answer: (DataProbe) -> T?) throws(KtrdrError) -> T? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { throw .dataNotFound(path: path, available: Existing.dataSets(besides: path)) }
            throw .io(path: path, message: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        guard let probe = try DataProbe(fd: fd, path: path) else { return nil }
        return answer(probe)
    }

    private init?(fd: Int32, path: String) throws(KtrdrError) {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .io(path: path, message: String(cString: strerror(errno))) }
        self.fd = fd
        size = Int(st.st_size)
        var head = Self.read(fd, at: 0, count: min(size, 64 << 10))
        var bom = 0
        if head.starts(with: [0xEF, 0xBB, 0xBF]) { bom = 3; head.removeFirst(3) }
        guard let newline = head.firstIndex(of: 0x0A) ?? (head.count == size - bom ? head.count : nil) else { return nil }
        let roles = try head.withUnsafeBufferPointer { (h: UnsafeBufferPointer<UInt8>) throws(KtrdrError) -> [Int] in
            try CSVLoader.columnRoles(header: UnsafeBufferPointer(rebasing: h[0..<newline]), fileName: path)
        }
        timeField = roles.firstIndex(of: 0)!
        dataStart = min(size, bom + newline + 1)
    }

    private func facts(start: Int64?, end: Int64?, warmup: Int) -> Backtester.RangeFacts? {
        let cap = warmup + 1
        guard let first = start.map({ firstLine(atOrAfter: $0) }) ?? .some(nextLine(from: dataStart)),
              let stop = end.map({ firstLine(atOrAfter: $0 + 1) }) ?? .some(size) else { return nil }
        let span = fileSpan()
        guard first < stop, let firstTime = time(at: first) else {
            return Backtester.RangeFacts(barsBeforeStart: 0, barsInRange: 0, firstRequestedTime: nil, fileSpan: span)
        }
        return Backtester.RangeFacts(barsBeforeStart: start == nil ? 0 : linesBackward(from: first, upTo: cap),
                                     barsInRange: linesForward(from: first, before: stop, upTo: cap), firstRequestedTime: firstTime,
                                     fileSpan: span)
    }

    /// The times of the first and the last bar (nil when either cannot be read).
    private func fileSpan() -> ClosedRange<Int64>? {
        let first = nextLine(from: dataStart)
        guard first < size, let t0 = time(at: first) else { return nil }
        var end = size  // back over trailing blank lines to the start of the last line with text
        while end > first, byte(at: end - 1) == 0x0A || byte(at: end - 1) == 0x0D { end -= 1 }
        var lineStart = end
        while lineStart > first {
            let n = min(lineStart - first, 4096)
            let chunk = Self.read(fd, at: lineStart - n, count: n)
            if let i = chunk.lastIndex(of: 0x0A) { lineStart = lineStart - n + i + 1; break }
            lineStart -= n
        }
        guard let t1 = time(at: lineStart), t1 >= t0 else { return nil }
        return t0...t1
    }

    // MARK: Lines

    /// The first non-blank line starting at or after `offset` that is a line start (or `size`).
    private func nextLine(from offset: Int) -> Int {
        var p = max(offset, dataStart)
        if p > dataStart, byte(at: p - 1) != 0x0A { p = lineAfter(p) }
        while p < size, isBlank(at: p) { p = lineAfter(p) }
        return p
    }

    /// The start of the line after the one containing `offset`.
    private func lineAfter(_ offset: Int) -> Int {
        var p = offset
        while p < size {
            let chunk = Self.read(fd, at: p, count: min(size - p, 4096))
            if chunk.isEmpty { return size }
            if let i = chunk.firstIndex(of: 0x0A) { return p + i + 1 }
            p += chunk.count
        }
        return size
    }

    private func isBlank(at offset: Int) -> Bool {
        let b = byte(at: offset)
        return b == 0x0A || (b == 0x0D && byte(at: offset + 1) == 0x0A)
    }

    private func byte(at offset: Int) -> UInt8 { Self.read(fd, at: offset, count: 1).first ?? 0x0A }

    private func time(at lineStart: Int) -> Int64? {
        let chunk = Self.read(fd, at: lineStart, count: min(size - lineStart, 512))
        let end = chunk.firstIndex(of: 0x0A) ?? chunk.count
        return chunk.withUnsafeBufferPointer { CSVLoader.timestamp(line: UnsafeBufferPointer(rebasing: $0[0..<end]), field: timeField) }
    }

    /// The first line whose time is at or after `t` (`size` when none); nil when a timestamp
    /// on the way cannot be read.
    private func firstLine(atOrAfter t: Int64) -> Int? {
        var lo = nextLine(from: dataStart)
        guard lo < size else { return size }
        guard let t0 = time(at: lo) else { return nil }
        if t0 >= t { return lo }
        var hi = size  // invariant: time(lo) < t; hi is `size` or a line start with time >= t
        while true {
            let next = nextLine(from: lo + 1)
            if next >= hi { return hi }
            let mid = nextLine(from: lo + (hi - lo) / 2)
            let probe = mid < hi && mid > lo ? mid : next
            guard let tp = time(at: probe) else { return nil }
            if tp >= t { hi = probe } else { lo = probe }
        }
    }

    /// Non-blank lines before `offset` (back to the header), counting at most `cap`.
    private func linesBackward(from offset: Int, upTo cap: Int) -> Int {
        var count = 0, p = offset, sawText = false
        while p > dataStart, count < cap {
            let n = min(p - dataStart, 64 << 10)
            let chunk = Self.read(fd, at: p - n, count: n)
            for b in chunk.reversed() {
                if b == 0x0A { if sawText { count += 1; if count >= cap { return count } }; sawText = false } else if b != 0x0D { sawText = true }
            }
            p -= n
        }
        return sawText ? count + 1 : count
    }

    /// Non-blank lines from `offset` up to `stop`, counting at most `cap`.
    private func linesForward(from offset: Int, before stop: Int, upTo cap: Int) -> Int {
        var count = 0, p = offset
        while p < stop, count < cap {
            count += 1
            p = nextLine(from: lineAfter(p))
        }
        return count
    }

    private static func read(_ fd: Int32, at offset: Int, count: Int) -> [UInt8] {
        guard count > 0 else { return [] }
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, n in
            let got = pread(fd, buffer.baseAddress, count, off_t(offset))
            n = max(0, got)
        }
    }
}
