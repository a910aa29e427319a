import ArgumentParser
import Foundation
import KtrdrAPI
import KtrdrClient
import KtrdrCore
import KtrdrPlugins
import KtrdrDefaults

struct DaemonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "daemon", abstract: "Start, inspect and stop ktrdrd.",
                                                    subcommands: [Start.self, Status.self, Stop.self])

    struct Start: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start ktrdrd in the background (pid file and log under --home) and wait until its socket answers.")
        @OptionGroup var daemon: DaemonOptions
        @Option(help: "HTTP address host:port.") var http = "127.0.0.1:8000"
        @Option(help: "Directory of data files (default: $KTRDR_DATA_DIR, else data).") var dataDir = KtrdrDefaults.dataDirectory
        @Option(help: "Directory of strategy files (default: $KTRDR_STRATEGIES_DIR, else strategies).") var strategiesDir = KtrdrDefaults.strategiesDirectory
        @Option(help: "Directory of trained models (default: $KTRDR_MODELS_DIR, else models).") var modelsDir = KtrdrDefaults.modelsDirectory
        @Option(help: "Directory of plugins (default: ktrdrd's own directory, where `swift build` puts them).") var pluginsDir: String?
        @Option(help: "Operations run at once (default: the cores ktrdrd may use, cgroup CPU limit included).") var maxConcurrent: Int?
        @Option(help: "Seconds to wait for the socket.") var timeout = 30.0
        @Argument(parsing: .postTerminator, help: "Further ktrdrd options, after -- (e.g. -- --role worker, -- --worker http://10.0.0.2:8000).")
        var ktrdrdOptions: [String] = []

        func run() throws {
            let home = daemon.resolvedHome
            if SocketProbeClient.answers(daemon.socketPath) {
                print("ktrdrd already running (socket \(daemon.socketPath))")
                return
            }
            try FileManager.default.createDirectory(atPath: home + "/log", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let logPath = home + "/log/ktrdrd.log"
            if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil, attributes: [.posixPermissions: 0o600]) }
            guard let log = FileHandle(forWritingAtPath: logPath) else { throw fail(.io(path: logPath, message: "cannot open log file")) }
            log.seekToEndOfFile()
            let binary = Self.siblingExecutable("ktrdrd")
            guard FileManager.default.isExecutableFile(atPath: binary) else {
                throw fail(.io(path: binary, message: "ktrdrd executable not found next to ktrdrctl (build it: swift build -c release)"))
            }
            var args = ["--home", home, "--log-file", logPath, "--http", http, "--data-dir", absolute(dataDir), "--strategies-dir", absolute(strategiesDir),
                        "--models-dir", absolute(modelsDir)]
            if let pluginsDir { args += ["--plugins-dir", absolute(pluginsDir)] }
            if let maxConcurrent { args += ["--max-concurrent", "\(maxConcurrent)"] }
            args += ktrdrdOptions
            let process = Process()
            // A new session, so a Ctrl-C in this terminal does not reach the daemon.
            if FileManager.default.isExecutableFile(atPath: "/usr/bin/setsid") {
                // --wait: if setsid must fork, it stays and exits with ktrdrd, so an early exit
                // (a busy port, a bad option) is seen at once instead of after the timeout.
                process.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
                process.arguments = ["--wait", binary] + args
            } else {
                process.executableURL = URL(fileURLWithPath: binary)
                process.arguments = args
            }
            process.standardOutput = log
            process.standardError = log
            process.standardInput = FileHandle.nullDevice
            try process.run()
            let deadline = Date(timeIntervalSinceNow: timeout)
            while Date() < deadline {
                if SocketProbeClient.answers(daemon.socketPath) {
                    let pid = (try? String(contentsOfFile: home + "/run/ktrdrd.pid", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
                    print("ktrdrd started: pid \(pid), http \(http), socket \(daemon.socketPath), log \(logPath)")
                    return
                }
                if !process.isRunning { break }
                usleep(100_000)
            }
            let tail = ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").split(separator: "\n").suffix(5).joined(separator: "\n")
            if process.isRunning {
                printError("error: ktrdrd did not answer on \(daemon.socketPath) within \(Int(timeout)) s; log tail:\n\(tail)")
            } else {
                printError("error: ktrdrd exited with status \(process.terminationStatus) before it answered; log tail:\n\(tail)")
            }
            throw ExitCode(ExitStatus.failure)
        }

        func absolute(_ path: String) -> String {
            path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        }

        static func siblingExecutable(_ name: String) -> String {
            (KtrdrDefaults.executableDirectory as NSString).appendingPathComponent(name)
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the daemon's status.")
        @OptionGroup var daemon: DaemonOptions
        @Flag(help: "JSON output.") var json = false
        func run() throws {
            let client = try withClient { try ControlClient(socketPath: daemon.socketPath) }
            let status = try withClient { try client.call("daemon.status") }
            let data = try JSONSerialization.data(withJSONObject: status, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            if json { return print(String(decoding: data, as: UTF8.self)) }
            guard let s = status as? [String: Any] else { return }
            for key in ["version", "pid", "uptime_seconds", "running", "pending", "capacity", "http", "socket", "database", "home"] {
                print("\(Format.pad(key, 16)) \(s[key].map { "\($0)" } ?? "")")
            }
        }
    }

    struct Stop: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop the daemon gracefully (running operations are cancelled and recorded).")
        @OptionGroup var daemon: DaemonOptions
        @Option(help: "Seconds to wait for the process to exit.") var timeout = 20.0
        func run() throws {
            let pid = (try? String(contentsOfFile: daemon.resolvedHome + "/run/ktrdrd.pid", encoding: .utf8))
                .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            guard SocketProbeClient.answers(daemon.socketPath) else {
                print("ktrdrd is not running")
                return
            }
            let client = try withClient { try ControlClient(socketPath: daemon.socketPath) }
            _ = try withClient { try client.call("daemon.shutdown") }
            let deadline = Date(timeIntervalSinceNow: timeout)
            while Date() < deadline {
                let alive = pid.map { kill($0, 0) == 0 } ?? SocketProbeClient.answers(daemon.socketPath)
                if !alive { print("ktrdrd stopped"); return }
                usleep(100_000)
            }
            printError("error: ktrdrd still running after \(Int(timeout)) s")
            throw ExitCode(ExitStatus.failure)
        }
    }
}

/// Whether a daemon answers on the control socket.
enum SocketProbeClient {
    static func answers(_ path: String) -> Bool { (try? ControlClient(socketPath: path)) != nil }
}
