import Foundation
import KtrdrCore
import KtrdrPlugins
import Synchronization

/// A worker's data files, named by SHA-256 (`<home>/blobs/<sha256>.csv`, 0600): what a server
/// pushed once stays, so a second run on the same file sends nothing. A blob is written to a
/// temporary name, checked against its name's digest, fsynced and renamed: a partial or wrong
/// upload never becomes a blob.
public struct BlobStore: Sendable {
    public let directory: String

    public init(directory: String) throws(KtrdrError) {
        self.directory = directory
        if mkdir(directory, 0o700) != 0 && errno != EEXIST {
            throw .io(path: directory, message: "cannot create the blob directory: \(String(cString: strerror(errno)))")
        }
    }

    public func path(_ sha256: String) -> String { directory + "/" + sha256 + ".csv" }

    public func has(_ sha256: String) -> Bool { Checksum.isSHA256(sha256) && access(path(sha256), R_OK) == 0 }

    public func list() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".csv") }.map { String($0.dropLast(4)) }.filter(Checksum.isSHA256).sorted()
    }

    /// Starts receiving the blob named `sha256`.
    public func writer(_ sha256: String) throws(KtrdrError) -> BlobWriter {
        guard Checksum.isSHA256(sha256) else { throw .invalidRequest("blob name: expected 64 lowercase hex digits (SHA-256), got '\(sha256.prefix(80))'") }
        return try BlobWriter(final: path(sha256), sha256: sha256)
    }
}

/// One upload in progress: bytes appended are hashed and written; `finish` keeps the file only
/// if its digest is the one announced.
public final class BlobWriter: @unchecked Sendable {  // used by one request handler at a time
    let final: String
    let temporary: String
    let expected: String
    private var fd: Int32
    private var running = Checksum.Running()
    public private(set) var bytes = 0

    init(final: String, sha256: String) throws(KtrdrError) {
        self.final = final
        self.expected = sha256
        self.temporary = final + ".part-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io(path: temporary, message: "cannot create: \(String(cString: strerror(errno)))") }
    }

    public func append(_ chunk: UnsafeRawBufferPointer) throws(KtrdrError) {
        running.update(chunk)
        var offset = 0
        while offset < chunk.count {
            let n = write(fd, chunk.baseAddress! + offset, chunk.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                let message = String(cString: strerror(errno))
                abort()
                throw .io(path: final, message: "write failed: \(message)")
            }
            offset += n
        }
        bytes += chunk.count
    }

    /// Checks the digest, then makes the blob visible; on a mismatch nothing is kept.
    public func finish() throws(KtrdrError) {
        let got = running.hex()
        guard got == expected else {
            abort()
            throw .invalidRequest("blob \(expected): the body's SHA-256 is \(got) (\(bytes) bytes received); nothing stored")
        }
        guard fsync(fd) == 0 else {
            let message = String(cString: strerror(errno))
            abort()
            throw .io(path: final, message: "fsync failed: \(message)")
        }
        close(fd)
        fd = -1
        guard rename(temporary, final) == 0 else {
            unlink(temporary)
            throw .io(path: final, message: "rename failed: \(String(cString: strerror(errno)))")
        }
    }

    public func abort() {
        if fd >= 0 { close(fd); fd = -1 }
        unlink(temporary)
    }

    deinit { if fd >= 0 { close(fd); unlink(temporary) } }
}

/// SHA-256 of data files, remembered while the file's identity (device, inode, size, mtime,
/// ctime) is unchanged: a server names each file it ships to workers without re-reading it.
public final class DataDigests: Sendable {
    private let known = Mutex<[String: (DataCache.Identity, String)]>([:])
    public init() {}

    public func sha256(_ path: String) throws(KtrdrError) -> String {
        guard let identity = DataCache.Identity(path) else { throw .dataNotFound(path: path) }
        if let (id, sha) = known.withLock({ $0[path] }), id == identity { return sha }
        let sha = try Checksum.sha256(file: path)
        // A file changed while it was read is hashed again next time.
        if DataCache.Identity(path) == identity { known.withLock { $0[path] = (identity, sha) } }
        return sha
    }
}
