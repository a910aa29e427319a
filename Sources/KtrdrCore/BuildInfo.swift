/// Facts about this build that plugins and their host compare.
public enum BuildInfo {
    /// The release of ktrdrd, ktrdrctl and the wire protocol they speak (`--version`).
    public static let version = "0.4.0"

    /// The Swift compiler (and so runtime) this code was built with, `major.minor`.
    public static var swiftVersion: String {
        #if compiler(>=6.4)
        "6.4"
        #elseif compiler(>=6.3)
        "6.3"
        #elseif compiler(>=6.2)
        "6.2"
        #elseif compiler(>=6.1)
        "6.1"
        #else
        "6.0"
        #endif
    }
}
