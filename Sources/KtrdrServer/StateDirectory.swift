import Foundation

/// The daemon's home (`$KTRDR_HOME`): private to its owner. Created 0700, and an existing one
/// is tightened too (directories 0700, the database, its WAL, the pid and log files 0600);
/// everything the daemon creates afterwards is private through its umask (077).
public enum StateDirectory {
    public static let directories = ["", "/run", "/log", "/results"]
    public static let files = ["/ktrdr.db", "/ktrdr.db-wal", "/ktrdr.db-shm", "/run/ktrdrd.pid", "/log/ktrdrd.log"]

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

    /// Removes group and other bits; true when something changed.
    private static func tighten(_ path: String, to mode: mode_t) -> Bool {
        var st = stat()
        guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) != S_IFLNK, st.st_mode & 0o077 != 0 else { return false }
        return chmod(path, mode) == 0
    }
}
