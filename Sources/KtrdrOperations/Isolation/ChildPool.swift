import Foundation
import KtrdrAPI
import KtrdrCore
import Logging
import Synchronization

/// Supervised local worker processes (`ktrdrd --role worker --child-of PID`), one per run
/// slot, each serving the worker protocol on a Unix socket (0600) in the daemon's state
/// directory. A plugin that crashes or hangs takes down one process: its operation fails with
/// the cause, the process is started again, the daemon keeps serving. After a plugin reload a
/// new generation of processes takes new work, and the old ones exit once idle, so old code is
/// really unloaded.
public final class ChildPool: Sendable {
    /// How to start a worker process.
    public struct Launch: Sendable {
        public var executable: String
        /// `<home>/workers`: sockets, homes, logs and the shared blob store.
        public var base: String
        public var count: Int
        public var arguments: [String]
        public var token: String
        public init(executable: String, base: String, count: Int, arguments: [String], token: String) {
            self.executable = executable
            self.base = base
            self.count = count
            self.arguments = arguments
            self.token = token
        }
    }

    private struct Child {
        var process: Process
        var url: String
        var generation: Int
    }

    private struct State {
        var children: [String: Child] = [:]
        var generation = 1
        var stopping = false
        var restarts = 0
    }

    public let launch: Launch
    public let directory: WorkerDirectory
    let logger: Logger
    private let state = Mutex(State())

    public init(launch: Launch, directory: WorkerDirectory, logger: Logger) throws(KtrdrError) {
        self.launch = launch
        self.directory = directory
        self.logger = logger
        for dir in [launch.base, launch.base + "/blobs"] where mkdir(dir, 0o700) != 0 && errno != EEXIST {
            throw .io(path: dir, message: "cannot create: \(String(cString: strerror(errno)))")
        }
    }

    /// The directory's configuration for a pool's processes: a blob store shared on disk, a
    /// token of its own, a short deadline (a process on this machine answers at once).
    public static func remoteConfig(base: String, token: String) throws(KtrdrError) -> RemoteConfig {
        if mkdir(base, 0o700) != 0 && errno != EEXIST { throw .io(path: base, message: "cannot create: \(String(cString: strerror(errno)))") }
        var c = RemoteConfig(workers: [], remoteByDefault: false, token: token)
        c.deadlineSeconds = 5
        c.pollSeconds = 0.1
        c.localBlobs = try BlobStore(directory: base + "/blobs")
        return c
    }

    public func start() async {
        for slot in 0..<launch.count { await spawn(slot: slot, generation: 1) }
    }

    public var restarts: Int { state.withLock { $0.restarts } }

    private func url(slot: Int, generation: Int) -> String { "unix:\(launch.base)/worker-\(slot)-g\(generation).sock" }

    private func spawn(slot: Int, generation: Int) async {
        let url = url(slot: slot, generation: generation)
        let socket = String(url.dropFirst(5))
        unlink(socket)
        let home = "\(launch.base)/worker-\(slot)"
        mkdir(home, 0o700)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: launch.executable)
        p.arguments = ["--role", "worker", "--child-of", "\(getpid())", "--home", home, "--http", url, "--blobs-dir", launch.base + "/blobs",
                       "--max-concurrent", "1"] + launch.arguments
        var env = ProcessInfo.processInfo.environment
        env["KTRDR_WORKER_TOKEN"] = launch.token
        env["SWIFT_BACKTRACE"] = "enable=no"  // a crash report per plugin fault is noise; the signal is recorded
        p.environment = env
        let log = "\(home)/worker.log"
        if !FileManager.default.fileExists(atPath: log) { FileManager.default.createFile(atPath: log, contents: nil, attributes: [.posixPermissions: 0o600]) }
        if let handle = FileHandle(forWritingAtPath: log) {
            handle.seekToEndOfFile()
            p.standardOutput = handle
            p.standardError = handle
        }
        p.standardInput = FileHandle.nullDevice
        p.terminationHandler = { [weak self] ended in self?.ended(ended, slot: slot, generation: generation, url: url) }
        do { try p.run() } catch {
            logger.error("worker process could not start", metadata: ["slot": "\(slot)", "error": "\(error)"])
            return
        }
        state.withLock { $0.children[url] = Child(process: p, url: url, generation: generation) }
        await directory.add(url)
    }

    private func ended(_ p: Process, slot: Int, generation: Int, url: String) {
        let how = p.terminationReason == .uncaughtSignal
            ? "signal \(p.terminationStatus) (\(String(cString: strsignal(p.terminationStatus))))"
            : "exit status \(p.terminationStatus)"
        let (respawn, current) = state.withLock { s -> (Bool, Int) in
            s.children[url] = nil
            let again = !s.stopping && generation == s.generation
            if again { s.restarts += 1 }
            return (again, s.generation)
        }
        let pid = p.processIdentifier
        Task {
            await directory.noteDeath(pid: pid, how)
            await directory.remove(url)
            guard respawn else { return }
            logger.warning("worker process ended; starting another", metadata: ["slot": "\(slot)", "pid": "\(pid)", "how": "\(how)"])
            await spawn(slot: slot, generation: current)
        }
    }

    /// Ends the process behind `url` at once (a run that ignored its cancel request).
    public func kill(_ url: String) {
        if let p = state.withLock({ $0.children[url]?.process }), p.isRunning { Foundation.kill(p.processIdentifier, SIGKILL) }
    }

    /// A plugin reload: a new generation of processes takes new work; the old ones drain.
    public func recycle() async {
        let (old, generation) = state.withLock { s -> ([String], Int) in
            s.generation += 1
            return (Array(s.children.keys), s.generation)
        }
        for url in old { await directory.drain(url) }
        for slot in 0..<launch.count { await spawn(slot: slot, generation: generation) }
        logger.info("worker processes recycled for new plugins", metadata: ["generation": "\(generation)", "draining": "\(old.count)"])
    }

    /// Stops drained processes of older generations (called periodically).
    public func reap() async {
        for url in await directory.drained() {
            if let p = state.withLock({ $0.children[url]?.process }), p.isRunning { p.terminate() }
        }
    }

    public func stop() {
        let all = state.withLock { s -> [Process] in
            s.stopping = true
            return s.children.values.map(\.process)
        }
        for p in all where p.isRunning { p.terminate() }
    }
}
