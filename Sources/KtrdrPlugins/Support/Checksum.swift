import Crypto
import Foundation
import KtrdrCore

/// SHA-256 as lowercase hex (model files, results, strategy texts, data blobs).
public enum Checksum {
    public static func sha256<D: DataProtocol>(_ bytes: D) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    /// SHA-256 over bytes given piece by piece (a file read in chunks, a request body).
    public struct Running {
        private var hasher = SHA256()
        public init() {}
        public mutating func update(_ bytes: UnsafeRawBufferPointer) { hasher.update(bufferPointer: bytes) }
        public func hex() -> String { hasher.finalize().map { String(format: "%02x", $0) }.joined() }
    }

    /// The file's SHA-256, read in 1 MiB chunks.
    public static func sha256(file path: String) throws(KtrdrError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path: path, message: "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var running = Running()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, message: "read failed: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            running.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
        return running.hex()
    }

    /// 64 lowercase hex digits.
    public static func isSHA256(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}
