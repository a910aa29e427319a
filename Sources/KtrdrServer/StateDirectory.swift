import Foundation

/// The daemon's home (`$KTRDR_HOME`): private to its owner. Created 0700, and an existing one
/// is tightened too (directories 0700, the database, its WAL, the pid and log files 0600);
/// everything the daemon creates afterwards is private through its umask (077).
public enum StateDirectory {
    public static let directories = ["", "/run", "/log", "/results"]
    public static let files = ["/ktrdr.db", "/ktrdr.db-wal", "/ktrdr.db-shm", "/run/ktrdrd.pid", "/run/http-token", "/log/ktrdrd.log"]

    /// Creates or tightens `home`; returns what it changed (for the log).
    @discardableResult
    public static func secure(_ home: String) throws -> [String] {
        umask(0o077)
        var changed = [String]()
        for dir in directories.map({ home + $0 }) {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            if tighten(dir, to: 0o700) { changed.append(dir) }
        }
        let results = (try? FileManager.default.contentsOfDirectory(atPath: home + "/results")) ?? []
        for file in files.map({ home + $0 }) + results.map({ home + "/results/" + $0 }) where tighten(file, to: 0o600) {
            changed.append(file)
        }
        return changed
    }

    /// A new random token (32 bytes, hex) written to `path` with mode 0600 (temp file, then
    /// rename, so a reader never sees half of one).
    public static func writeSecret(at path: String) throws -> String {
        var bytes = [UInt8](repeating: 0, count: 32)
        var rng = SystemRandomNumberGenerator()
        for i in bytes.indices { bytes[i] = rng.next() }
        let token = bytes.map { String(format: "%02x", $0) }.joined()
        let temp = path + ".tmp-\(getpid())"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: temp]) }
        let line = Array((token + "\n").utf8)
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == line.count, synced, rename(temp, path) == 0 else {
            unlink(temp)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        return token
    }

    /// Reads a token written by `writeSecret` (nil when there is none).
    public static func readSecret(at path: String) -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return token.isEmpty ? nil : token
    }

    /// Removes group and other bits; true when something changed.
    private static func tighten(_ path: String, to mode: mode_t) -> Bool {
        var st = stat()
        guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) != S_IFLNK, st.st_mode & 0o077 != 0 else { return false }
        return chmod(path, mode) == 0
    }
}
