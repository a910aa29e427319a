#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// C stdio handles and terminal checks, in one place.
enum KtrdrStdio {
    nonisolated(unsafe) static let stderr = Glibc.stderr
    static var stderrIsTerminal: Bool { isatty(2) != 0 }
    static var stdoutIsTerminal: Bool { isatty(1) != 0 }

    /// The width of the terminal on stderr (80 when it cannot be read).
    static var terminalColumns: Int {
        var size = winsize()
        guard ioctl(2, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }

    static func writeStderr(_ s: String) {
        _ = s.withCString { fputs($0, stderr) }
        fflush(stderr)
    }

    /// Monotonic seconds.
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}
