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
            if errno == ENOENT { throw .dataNotFound(path: path) }
            throw .io(path: path, message: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .io(path: path, message: String(cString: strerror(errno))) }
        let size = Int(st.st_size)
        // One extra NUL byte so strtod can never read past the buffer.
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size + 1, alignment: 16)
        defer { buffer.deallocate() }
        var got = 0
        while got < size {
            let n = read(fd, buffer.baseAddress! + got, min(size - got, 16 << 20))
            if n <= 0 { throw .io(path: path, message: n == 0 ? "file shrank while reading" : String(cString: strerror(errno))) }
            got += n
            if let observer, !observer(.reading, got, size) { throw .cancelled }
        }
        buffer[size] = 0
        return try parse(UnsafeBufferPointer(start: buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), count: size),
                         fileName: name, observer: observer)
    }
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
