import Foundation
import KtrdrPluginABI

/// Checks a plugin file in a child process before the daemon maps it: `dlopen` (which runs the
/// file's constructors), the descriptor call and `PluginDescriptor.check`. A file that crashes,
/// exits or hangs there takes only the child down and is refused with the stage and the signal.
///
/// The child is this daemon's own executable run as `ktrdrd --probe-plugin FILE`
/// (`PluginProbe.childMain`). It reports on a private copy of stdout, one line per stage, so a
/// plugin that prints cannot forge the report.
public struct PluginProbe: Sendable {
    public let executable: String
    public let arguments: [String]
    /// Seconds before a probe that has not answered is killed and its file refused.
    public let timeout: Double
    /// Files already probed, by SHA-256 (a JSON object in the daemon's private state): a
    /// daemon's worker processes load what it probed without probing again.
    public let manifest: String?

    public init(executable: String, arguments: [String] = ["--probe-plugin"], timeout: Double = 20, manifest: String? = nil) {
        self.executable = executable
        self.arguments = arguments
        self.timeout = timeout
        self.manifest = manifest
    }

    /// The descriptor of a file probed before (same bytes), or the probe's answer now.
    func run(_ path: String) -> Result<PluginDescriptor, PluginRefusal> {
        guard let manifest, let sha = try? Checksum.sha256(file: path) else { return probe(path) }
        if let known = Self.read(manifest)[sha] { return .success(known) }
        let result = probe(path)
        if case let .success(descriptor) = result {
            var all = Self.read(manifest)
            all[sha] = descriptor
            if let data = try? JSONEncoder().encode(all) {
                let tmp = manifest + ".tmp-\(getpid())"
                if FileManager.default.createFile(atPath: tmp, contents: data, attributes: [.posixPermissions: 0o600]) { rename(tmp, manifest) }
            }
        }
        return result
    }

    private static func read(_ manifest: String) -> [String: PluginDescriptor] {
        guard let data = FileManager.default.contents(atPath: manifest) else { return [:] }
        return (try? JSONDecoder().decode([String: PluginDescriptor].self, from: data)) ?? [:]
    }

    /// Runs the probe on `path` and returns the descriptor the child read, or why it was refused.
    private func probe(_ path: String) -> Result<PluginDescriptor, PluginRefusal> {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments + [path]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        // A crash report is the signal and the stage, not the Swift runtime's backtrace.
        var environment = ProcessInfo.processInfo.environment
        environment["SWIFT_BACKTRACE"] = "enable=no"
        process.environment = environment
        let done = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in done.signal() }
        do { try process.run() } catch {
            return .failure(.init("cannot start the plugin probe \(executable): \(error.localizedDescription)"))
        }
        // Drained while the child runs: a chatty constructor must not block on a full pipe.
        let outText = Self.drain(out), errText = Self.drain(err)
        var timedOut = false
        if done.wait(timeout: .now() + timeout) == .timedOut {
            timedOut = true
            kill(process.processIdentifier, SIGKILL)
            done.wait()
        }
        let lines = outText.wait().split(separator: "\n").map(String.init)
        let stage = lines.last { $0.hasPrefix("stage ") }.map { String($0.dropFirst(6)) } ?? "start"
        let stderrTail = String(errText.wait().suffix(300)).trimmingCharacters(in: .whitespacesAndNewlines)
        let said = stderrTail.isEmpty ? "" : " (stderr: \(stderrTail))"
        if timedOut {
            return .failure(.init("probe did not finish within \(Int(timeout)) s (hung in \(stage)); not loaded\(said)"))
        }
        if process.terminationReason == .uncaughtSignal {
            let signal = process.terminationStatus
            let name = strsignal(signal).map { String(cString: $0) } ?? "signal \(signal)"
            return .failure(.init("probe crashed with \(name) (signal \(signal)) in \(stage); not loaded\(said)"))
        }
        if let line = lines.last(where: { $0.hasPrefix("ok ") }),
           let descriptor = try? JSONDecoder().decode(PluginDescriptor.self, from: Data(line.dropFirst(3).utf8)) {
            return .success(descriptor)
        }
        if let line = lines.last(where: { $0.hasPrefix("refused ") }),
           let refusal = try? JSONDecoder().decode(Refusal.self, from: Data(line.dropFirst(8).utf8)) {
            return .failure(.init(refusal.message, name: refusal.name))
        }
        return .failure(.init("probe exited with status \(process.terminationStatus) in \(stage) without a report; not loaded\(said)"))
    }

    /// The child's side: checks `path` and reports on stdout; returns the exit status.
    public static func childMain(path: String) -> Int32 {
        // The report goes to a private descriptor; the plugin's own output goes nowhere.
        let report = dup(1)
        let null = open("/dev/null", O_WRONLY)
        if null >= 0 { dup2(null, 1); close(null) }
        func say(_ line: String) {
            let bytes = Array((line + "\n").utf8)
            _ = bytes.withUnsafeBytes { write(report, $0.baseAddress, $0.count) }
        }
        func refuse(_ refusal: PluginRefusal) -> Int32 {
            let json = (try? JSONEncoder().encode(Refusal(message: refusal.message, name: refusal.name))) ?? Data()
            say("refused " + String(decoding: json, as: UTF8.self))
            return 0
        }
        say("stage dlopen (the file's constructors)")
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            return refuse(.init("dlopen failed: \(dlerror().map { String(cString: $0) } ?? "unknown error")"))
        }
        guard let symbol = dlsym(handle, KTRDR_PLUGIN_SYMBOL) else {
            return refuse(.init("no \(KTRDR_PLUGIN_SYMBOL) symbol: not a ktrdr plugin"))
        }
        say("stage \(KTRDR_PLUGIN_SYMBOL)()")
        guard let raw = unsafeBitCast(symbol, to: ktrdr_plugin_descriptor_fn.self)() else {
            return refuse(.init("\(KTRDR_PLUGIN_SYMBOL)() returned NULL"))
        }
        say("stage descriptor checks")
        switch PluginDescriptor.check(raw) {
        case let .failure(refusal): return refuse(refusal)
        case let .success(descriptor):
            let json = (try? JSONEncoder().encode(descriptor)) ?? Data()
            say("ok " + String(decoding: json, as: UTF8.self))
            return 0
        }
    }

    private struct Refusal: Codable { var message: String; var name: String? }

    /// Reads a pipe to its end on another thread.
    private static func drain(_ pipe: Pipe) -> Drained {
        let drained = Drained()
        let handle = pipe.fileHandleForReading
        Thread.detachNewThread {
            drained.finish(String(decoding: handle.readDataToEndOfFile(), as: UTF8.self))
        }
        return drained
    }

    private final class Drained: @unchecked Sendable {
        private let ready = DispatchSemaphore(value: 0)
        private var text = ""
        func finish(_ t: String) { text = t; ready.signal() }
        /// The text read, or what arrived in time: a grandchild may hold the pipe open.
        func wait() -> String {
            guard ready.wait(timeout: .now() + 2) == .success else { return "" }
            ready.signal()
            return text
        }
    }
}
