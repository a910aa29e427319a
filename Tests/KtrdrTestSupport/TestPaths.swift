import Foundation

/// Where the tests find the repository and the plugins `swift build` produced: one place for
/// every test target.
public enum TestPaths {
    /// The repository root, from this file's location.
    public static let root: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    public static func path(_ relative: String) -> String { root + "/" + relative }

    /// The directory holding the built plugins: next to the test binary, else `.build/debug`.
    public static let builtPlugins: String = {
        let here = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).deletingLastPathComponent().path
        return [here, root + "/.build/debug"].first { FileManager.default.fileExists(atPath: $0 + "/libktrdr_plugin_sma_crossover.so") } ?? here
    }()

    /// A fresh private directory under the system's temporary directory.
    public static func temporaryDirectory(_ prefix: String) -> String {
        let dir = NSTemporaryDirectory() + "\(prefix)-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return dir
    }
}
