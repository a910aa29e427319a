import Foundation

/// Where ktrdrd, ktrdrctl and ktrdr-bench look when a command line does not say: one
/// definition, each overridable by its environment variable, so that a daemon and a `--local`
/// run started in the same shell agree.
public enum KtrdrDefaults {
    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// `$KTRDR_HOME`, else `~/.ktrdr`: the daemon's state (database, results, socket, log).
    public static var home: String { environment["KTRDR_HOME"] ?? (NSHomeDirectory() + "/.ktrdr") }
    /// `$KTRDR_DATA_DIR`, else `data`.
    public static var dataDirectory: String { environment["KTRDR_DATA_DIR"] ?? "data" }
    /// `$KTRDR_STRATEGIES_DIR`, else `strategies`.
    public static var strategiesDirectory: String { environment["KTRDR_STRATEGIES_DIR"] ?? "strategies" }
    /// `$KTRDR_MODELS_DIR`, else `models`.
    public static var modelsDirectory: String { environment["KTRDR_MODELS_DIR"] ?? "models" }
    /// `$KTRDR_PLUGINS_DIR`, else the directory of the running executable, where `swift build`
    /// puts the plugins beside `ktrdrd`, `ktrdrctl` and `ktrdr-bench`.
    public static var pluginsDirectory: String { environment["KTRDR_PLUGINS_DIR"] ?? executableDirectory }

    /// The directory of the running executable (from `/proc/self/exe`).
    public static var executableDirectory: String { (executablePath as NSString).deletingLastPathComponent }

    /// The running executable (from `/proc/self/exe`).
    public static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}
