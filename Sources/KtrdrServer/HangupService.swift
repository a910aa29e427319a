import Foundation
import KtrdrPlugins
import Logging
import ServiceLifecycle
import UnixSignals

/// The daemon's log file: standard output and error point at it, so that every line (the
/// logger's and a crash's) lands there; reopening follows a rotated file.
public enum LogFile {
    /// Opens `path` for appending (created 0600) and makes it standard output and error.
    public static func redirect(to path: String) throws {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path, NSLocalizedDescriptionKey:
                "cannot open log file \(path): \(String(cString: strerror(errno)))"])
        }
        defer { close(fd) }
        fflush(nil)  // every stdio stream
        dup2(fd, STDOUT_FILENO)
        dup2(fd, STDERR_FILENO)
    }
}

/// SIGHUP, as daemons conventionally read it: rescan the plugins directory and reopen the log
/// file (after logrotate moved it). Without this service SIGHUP's default action would end the
/// process and leave its pid file and socket behind.
struct HangupService: Service {
    let logFile: String?
    let reload: @Sendable () -> PluginHost.ReloadReport
    let logger: Logger

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            if let logFile {
                do { try LogFile.redirect(to: logFile) } catch {
                    logger.error("SIGHUP: cannot reopen the log file", metadata: ["path": "\(logFile)", "error": "\(error)"])
                }
            }
            let report = reload()
            logger.info("SIGHUP: log reopened, plugins reloaded", metadata: [
                "log": "\(logFile ?? "standard error")", "loaded": "\(report.loaded.map { "\($0.name) \($0.version)" }.joined(separator: ", "))",
                "refused": "\(report.problems.count)"])
        }
    }
}
