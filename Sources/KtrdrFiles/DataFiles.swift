#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import KtrdrCore

extension CSVLoader {
    /// Reads and parses the file at `path`. `displayName` is used in messages.
    public static func load(path: String, displayName: String? = nil, observer: Observer? = nil) throws(KtrdrError) -> Bars {
        let name = displayName ?? path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            if errno == ENOENT { throw .dataNotFound(path: path, available: Existing.dataSets(besides: path)) }
            throw .io(path: path, message: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .io(path: path, message: String(cString: strerror(errno))) }
        let size = Int(st.st_size)
        var parser = CSVStreamParser(fileName: name, expectedBytes: size)
        // A small reused buffer (one extra byte for the NUL the parser may read past the end).
        var capacity = readChunk
        var buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity + 1)
        defer { buffer.deallocate() }
        var filled = 0, total = 0
        while true {
            if filled == capacity {  // one line longer than the buffer
                let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2 + 1)
                bigger.update(from: buffer, count: filled)
                buffer.deallocate()
                buffer = bigger
                capacity *= 2
            }
            let n = read(fd, buffer + filled, capacity - filled)
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, message: String(cString: strerror(errno)))
            }
            filled += n
            total += n
            buffer[filled] = 0
            let used = try parser.feed(UnsafeBufferPointer(start: buffer, count: filled), final: n == 0)
            if n == 0 { break }
            filled -= used
            if filled > 0 { memmove(buffer, buffer + used, filled) }
            if let observer, !observer(.reading, total, max(size, total)) { throw .cancelled }
        }
        return parser.finish()
    }

    /// Bytes read per `read(2)`: small enough to stay in L2, large enough that calls are few.
    static let readChunk = 512 << 10
}

extension SyntheticData {
    /// Writes the CSV to `path`. Returns bytes written.
    @discardableResult
    public func write(to path: String) throws(KtrdrError) -> Int {
        guard let file = fopen(path, "w") else { throw .io(path: path, message: String(cString: strerror(errno))) }
        defer { fclose(file) }
        var written = 0, failed = false
        csvChunks { chunk in
            if fwrite(chunk, 1, chunk.count, file) != chunk.count { failed = true }
            written += chunk.count
            return !failed
        }
        if failed { throw .io(path: path, message: "write failed: \(String(cString: strerror(errno)))") }
        return written
    }
}

extension Backtester {
    /// `prepare` reading the data file from disk (no cache).
    public static func prepare(_ request: BacktestRequest, strategy: any SignalStrategy, dataDirectory: String) throws(KtrdrError) -> PreparedBacktest {
        try prepare(request, strategy: strategy, dataDirectory: dataDirectory) { path throws(KtrdrError) in try CSVLoader.load(path: path) }
    }
}
