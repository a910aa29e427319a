import CZstd
import KtrdrPlugins
import Foundation
import KtrdrAPI
import KtrdrCore

/// The large parts of a completed backtest (trades, equity curve) as one compressed file
/// beside the database, so that storing a result never holds the database writer for long.
///
/// Layout: `KTRRES1\n`, then sections of tag (u8), element count (u64 LE), compressed length
/// (u64 LE) and a zstd frame with its content checksum. Before compression, columns are made
/// repetitive: timestamps as deltas, doubles as the XOR of consecutive bit patterns (0 while
/// nothing changes), each then grouped by byte significance (high bytes of similar values are
/// equal). The drawdown column is left out when it is `EquityCurve.drawdown(equity)`, as it
/// always is for the engine's curves, and recomputed on read: the same function, the same bits.
enum ResultFile {
    static let magic = Array("KTRRES1\n".utf8)

    enum Tag: UInt8 { case trades = 1, timestamps, equity, position, drawdown }

    struct Contents {
        var tradesJSON: [UInt8]
        var curve: EquityCurve
    }

    static func encode(tradesJSON: [UInt8], curve: EquityCurve) throws(SQLiteError) -> [UInt8] {
        guard let ctx = ZSTD_createCCtx() else { throw SQLiteError(message: "zstd: cannot create a context") }
        defer { ZSTD_freeCCtx(ctx) }
        ZSTD_CCtx_setParameter(ctx, ZSTD_c_compressionLevel, 1)
        ZSTD_CCtx_setParameter(ctx, ZSTD_c_checksumFlag, 1)
        let n = curve.equity.count
        var out = magic
        out.reserveCapacity(n * 2 + tradesJSON.count / 4 + 256)
        // One plane buffer serves every column (transformed and byte-grouped in one pass), one
        // scratch buffer every compressed section.
        let room = ZSTD_compressBound(max(n * 8, tradesJSON.count))
        var scratch = [UInt8](unsafeUninitializedCapacity: room) { _, c in c = room }
        try section(&out, ctx, &scratch, .trades, count: tradesJSON.count, tradesJSON)
        var planes = [UInt8](unsafeUninitializedCapacity: n * 8) { _, c in c = n * 8 }
        curve.timestamps.withUnsafeBufferPointer { v in planes.withUnsafeMutableBufferPointer { transform(v, into: $0, xor: false) } }
        try section(&out, ctx, &scratch, .timestamps, count: n, planes)
        curve.equity.withUnsafeBufferPointer { v in planes.withUnsafeMutableBufferPointer { transform(v, into: $0, xor: true) } }
        try section(&out, ctx, &scratch, .equity, count: n, planes)
        curve.position.withUnsafeBufferPointer { v in planes.withUnsafeMutableBufferPointer { transform(v, into: $0, xor: true) } }
        try section(&out, ctx, &scratch, .position, count: n, planes)
        if !EquityCurve.isDrawdown(curve.drawdownPct, of: curve.equity) {
            curve.drawdownPct.withUnsafeBufferPointer { v in planes.withUnsafeMutableBufferPointer { transform(v, into: $0, xor: true) } }
            try section(&out, ctx, &scratch, .drawdown, count: n, planes)
        }
        return out
    }

    /// Each value as its difference (integers) or XOR (doubles' bit patterns) with the previous
    /// one, byte k of value i stored at `k * count + i`.
    private static func transform<T>(_ v: UnsafeBufferPointer<T>, into out: UnsafeMutableBufferPointer<UInt8>, xor: Bool) {
        let n = v.count
        guard n > 0 else { return }
        let bits = UnsafeRawBufferPointer(v).bindMemory(to: UInt64.self)
        var previous: UInt64 = 0
        for i in 0..<n {
            let x = bits[i]
            let d = xor ? x ^ previous : x &- previous
            previous = x
            for b in 0..<8 { out[b &* n &+ i] = UInt8(truncatingIfNeeded: d >> (UInt64(b) &* 8)) }
        }
    }

    static func decode(_ bytes: [UInt8], file: String) throws(SQLiteError) -> Contents {
        guard bytes.count >= magic.count, Array(bytes[0..<magic.count]) == magic else {
            throw SQLiteError(message: "\(file): not a ktrdr result file (bad magic)")
        }
        var offset = magic.count
        var parts: [Tag: (count: Int, raw: [UInt8])] = [:]
        while offset < bytes.count {
            guard bytes.count - offset >= 17, let tag = Tag(rawValue: bytes[offset]) else {
                throw SQLiteError(message: "\(file): damaged section header at byte \(offset)")
            }
            let count = Int(u64(bytes, offset + 1)), length = Int(u64(bytes, offset + 9))
            offset += 17
            guard length >= 0, count >= 0, length <= bytes.count - offset else {
                throw SQLiteError(message: "\(file): section \(tag) runs past the end of the file")
            }
            let width = tag == .trades ? 1 : 8
            parts[tag] = (count, try decompress(bytes, offset, length, expected: count * width, file: file))
            offset += length
        }
        guard let trades = parts[.trades], let time = parts[.timestamps], let equity = parts[.equity], let position = parts[.position] else {
            throw SQLiteError(message: "\(file): a section is missing")
        }
        let eq: [Double] = undoXors(unshuffled(equity.raw, count: equity.count))
        let dd: [Double] = parts[.drawdown].map { undoXors(unshuffled($0.raw, count: $0.count)) } ?? EquityCurve.drawdown(eq)
        let curve = EquityCurve(timestamps: undoDeltas(unshuffled(time.raw, count: time.count)), equity: eq, drawdownPct: dd,
                                position: undoXors(unshuffled(position.raw, count: position.count)))
        guard curve.timestamps.count == eq.count, curve.position.count == eq.count, dd.count == eq.count else {
            throw SQLiteError(message: "\(file): curve columns differ in length")
        }
        return Contents(tradesJSON: trades.raw, curve: curve)
    }

    /// Checks the layout without decompressing: magic, every section header within the file,
    /// the required sections present, curve columns of one length, and each compressed frame
    /// announcing the size its count implies (frames carry their own checksums, verified when read).
    static func checkLayout(_ bytes: [UInt8], file: String) throws(SQLiteError) {
        guard bytes.count >= magic.count, Array(bytes[0..<magic.count]) == magic else {
            throw SQLiteError(message: "\(file): not a ktrdr result file (bad magic)")
        }
        var offset = magic.count
        var counts: [Tag: Int] = [:]
        while offset < bytes.count {
            guard bytes.count - offset >= 17, let tag = Tag(rawValue: bytes[offset]) else {
                throw SQLiteError(message: "\(file): damaged section header at byte \(offset)")
            }
            let count = Int(truncatingIfNeeded: u64(bytes, offset + 1)), length = Int(truncatingIfNeeded: u64(bytes, offset + 9))
            offset += 17
            guard length > 0, count >= 0, count <= 1 << 40, length <= bytes.count - offset else {
                throw SQLiteError(message: "\(file): section \(tag) runs past the end of the file")
            }
            let announced = bytes.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress! + offset, length) }
            guard announced == UInt64(count * (tag == .trades ? 1 : 8)) else {
                throw SQLiteError(message: "\(file): section \(tag) announces \(announced) bytes for \(count) values")
            }
            counts[tag] = count
            offset += length
        }
        guard counts[.trades] != nil, let n = counts[.timestamps], counts[.equity] == n, counts[.position] == n, counts[.drawdown] ?? n == n else {
            throw SQLiteError(message: "\(file): a section is missing or the curve columns differ in length")
        }
    }

    // MARK: Sections

    /// Appends a section; `scratch` has room for the largest compressed section.
    private static func section(_ out: inout [UInt8], _ ctx: OpaquePointer, _ scratch: inout [UInt8], _ tag: Tag, count: Int,
                                _ raw: [UInt8]) throws(SQLiteError) {
        let bound = ZSTD_compressBound(raw.count)
        let written = scratch.withUnsafeMutableBufferPointer { o in
            raw.withUnsafeBytes { ZSTD_compress2(ctx, o.baseAddress, min(bound, o.count), $0.baseAddress, raw.count) }
        }
        if ZSTD_isError(written) != 0 { throw SQLiteError(message: "zstd: \(String(cString: ZSTD_getErrorName(written)))") }
        out.append(tag.rawValue)
        append(&out, UInt64(count))
        append(&out, UInt64(written))
        scratch.withUnsafeBufferPointer { out.append(contentsOf: UnsafeBufferPointer(rebasing: $0[0..<written])) }
    }

    private static func decompress(_ bytes: [UInt8], _ offset: Int, _ length: Int, expected: Int, file: String) throws(SQLiteError) -> [UInt8] {
        var failure: String?
        let out = [UInt8](unsafeUninitializedCapacity: expected) { buffer, n in
            let written = bytes.withUnsafeBytes { src in
                ZSTD_decompress(buffer.baseAddress, expected, src.baseAddress! + offset, length)
            }
            if ZSTD_isError(written) != 0 { failure = String(cString: ZSTD_getErrorName(written)); n = 0 } else { n = written }
        }
        if let failure { throw SQLiteError(message: "\(file): zstd: \(failure)") }
        guard out.count == expected else { throw SQLiteError(message: "\(file): section holds \(out.count) bytes, expected \(expected)") }
        return out
    }

    // MARK: Column transforms

    static func undoDeltas(_ v: [UInt64]) -> [Int64] {
        var previous: Int64 = 0
        return v.map { d in previous = previous &+ Int64(bitPattern: d); return previous }
    }

    static func undoXors(_ v: [UInt64]) -> [Double] {
        var previous: UInt64 = 0
        return v.map { d in previous ^= d; return Double(bitPattern: previous) }
    }

    static func unshuffled(_ bytes: [UInt8], count n: Int) -> [UInt64] {
        [UInt64](unsafeUninitializedCapacity: n) { out, count in
            bytes.withUnsafeBufferPointer { src in
                for i in 0..<n {
                    var x: UInt64 = 0
                    for b in 0..<8 { x |= UInt64(src[b &* n &+ i]) << (UInt64(b) &* 8) }
                    out[i] = x
                }
            }
            count = n
        }
    }

    private static func append(_ out: inout [UInt8], _ v: UInt64) {
        for b in 0..<8 { out.append(UInt8(truncatingIfNeeded: v >> (UInt64(b) * 8))) }
    }

    private static func u64(_ bytes: [UInt8], _ at: Int) -> UInt64 {
        var v: UInt64 = 0
        for b in 0..<8 { v |= UInt64(bytes[at + b]) << (UInt64(b) * 8) }
        return v
    }
}

/// Writes and reads result files: atomically (temporary file, fsync, rename, fsync of the
/// directory), private to the owner, checked against their SHA-256 when read.
struct ResultFiles: Sendable {
    let directory: String

    init(directory: String) throws(SQLiteError) {
        self.directory = directory
        if mkdir(directory, 0o700) != 0 && errno != EEXIST {
            throw SQLiteError(message: "\(directory): cannot create the results directory: \(String(cString: strerror(errno)))")
        }
    }

    func path(_ name: String) -> String { directory + "/" + name }

    /// The file name of an operation's result (ids are checked by `OperationRecord.isValidId`).
    static func name(_ id: String) -> String { id + ".ktres" }

    func write(_ name: String, _ bytes: [UInt8]) throws(SQLiteError) {
        let final = path(name)
        let temp = path(".\(name).\(UInt32.random(in: 0...UInt32.max)).tmp")
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SQLiteError(message: "\(temp): cannot create: \(String(cString: strerror(errno)))") }
        var problem: String?
        bytes.withUnsafeBytes { buffer in
            var done = 0
            while done < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + done, buffer.count - done)
                if n < 0 { if errno == EINTR { continue }; problem = "write: \(String(cString: strerror(errno)))"; return }
                done += n
            }
        }
        if problem == nil, fsync(fd) != 0 { problem = "fsync: \(String(cString: strerror(errno)))" }
        close(fd)
        if problem == nil, rename(temp, final) != 0 { problem = "rename: \(String(cString: strerror(errno)))" }
        if let problem {
            unlink(temp)
            throw SQLiteError(message: "\(final): \(problem)")
        }
        let dir = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 { fsync(dir); close(dir) }
    }

    func read(_ name: String, sha256: String) throws(SQLiteError) -> [UInt8] {
        let file = path(name)
        guard let data = FileManager.default.contents(atPath: file) else {
            throw SQLiteError(message: "\(file): result file missing or unreadable")
        }
        let bytes = [UInt8](data)
        guard Checksum.sha256(bytes) == sha256 else {
            throw SQLiteError(message: "\(file): checksum mismatch (the file is damaged)")
        }
        return bytes
    }

    func remove(_ name: String) { unlink(path(name)) }

    /// Result files and leftovers of interrupted writes.
    func names() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".ktres") || $0.hasSuffix(".tmp") }
    }
}
