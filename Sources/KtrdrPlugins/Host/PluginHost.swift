import Foundation
import KtrdrAPI
import KtrdrCore
import KtrdrPluginABI
import Logging
import Synchronization

/// Discovers, checks and loads the plugins of one directory, and hot-reloads them.
///
/// Each file is first copied to a private unique path and loaded from there with
/// `dlopen(RTLD_NOW | RTLD_LOCAL)`: `dlopen` caches by path, and a build overwriting the
/// original in place must not touch the mapped code. Handles are never closed. The newest
/// generation of each name serves new operations; older ones stay mapped for the
/// operations still running on them.
public final class PluginHost: Sendable {
    public let directory: String
    /// Intra-op threads given to each model plugin once, when it loads.
    public let modelThreads: Int
    private let scratch: String
    private let logger: Logger
    private let state = Mutex(State())
    /// One scan at a time: two concurrent reloads must not load the same file twice.
    private let scanning = Mutex(())
    /// Load files only when a plugin is asked for (one-shot commands: a `--local` run of a
    /// strategy never pays for loading libtorch through a model plugin it does not use).
    public let onDemand: Bool

    private struct FileIdentity: Equatable { var device: UInt64; var inode: UInt64; var size: Int64; var mtime: Int64 }
    private struct State {
        var generations: [String: [LoadedPlugin]] = [:]
        var seen: [String: FileIdentity] = [:]
        var problems: [String: PluginProblem] = [:]
        var counter = 0
    }

    /// What one scan did.
    public typealias ReloadReport = PluginReloadReport

    public init(directory: String, modelThreads: Int = 1,
                logger: Logger = Logger(label: "ktrdrd.plugins"), onDemand: Bool = false) {
        self.directory = directory
        self.onDemand = onDemand
        self.modelThreads = max(1, modelThreads)
        self.logger = logger
        self.scratch = (NSTemporaryDirectory() as NSString).appendingPathComponent("ktrdr-plugins-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    }

    /// Loads every new or changed `*.so` of the directory. A file that fails a check is
    /// reported (and logged) and changes nothing; earlier generations stay in service.
    @discardableResult
    public func reload() -> ReloadReport {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".so") }.sorted()
        return scan(files)
    }

    /// Loads the given files of the directory that are new or changed (serialised).
    private func scan(_ files: [String]) -> ReloadReport {
        scanning.withLock { _ in scanLocked(files) }
    }

    private func scanLocked(_ files: [String]) -> ReloadReport {
        var report = ReloadReport(loaded: [], unchanged: [], problems: [])
        for name in files {
            let path = (directory as NSString).appendingPathComponent(name)
            guard let identity = Self.identity(path) else { continue }
            if state.withLock({ $0.seen[path] == identity }) {
                if let problem = state.withLock({ $0.problems[path] }) { report.problems.append(problem) } else { report.unchanged.append(path) }
                continue
            }
            switch load(path) {
            case let .success(plugin):
                state.withLock { s in
                    s.seen[path] = identity
                    s.problems[path] = nil
                    s.generations[plugin.descriptor.name, default: []].append(plugin)
                }
                logger.info("plugin loaded", metadata: ["name": "\(plugin.descriptor.name)", "version": "\(plugin.descriptor.version)",
                                                        "generation": "\(plugin.generation)", "file": "\(path)"])
                report.loaded.append(status(plugin, current: true))
            case let .failure(refusal):
                let problem = PluginProblem(file: path, name: refusal.name, message: refusal.message)
                state.withLock { s in
                    s.seen[path] = identity
                    s.problems[path] = problem
                }
                logger.error("plugin refused", metadata: ["file": "\(path)", "reason": "\(refusal.message)"])
                report.problems.append(problem)
            }
        }
        return report
    }

    /// The generation new operations get for `name`, of `kind`.
    public func plugin(named name: String, kind: PluginDescriptor.Kind) throws(KtrdrError) -> LoadedPlugin {
        if onDemand, state.withLock({ $0.generations[name] == nil }) {
            // The file named by convention first; every file only if that one does not provide it.
            if name.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }) {
                _ = scan(["libktrdr_plugin_\(name).so"])
            }
            if state.withLock({ $0.generations[name] == nil }) { reload() }
        }
        let (found, available) = state.withLock { s in
            (s.generations[name]?.last, s.generations.values.compactMap(\.last).filter { $0.descriptor.kind == kind }.map(\.descriptor.name).sorted())
        }
        guard let found, found.descriptor.kind == kind else {
            if let problem = state.withLock({ s in s.problems.values.first { $0.name == name } }) {
                throw .pluginInvalid(file: problem.file, message: "plugin '\(name)' was refused when loaded: \(problem.message)")
            }
            throw .pluginNotFound(name: name, available: available)
        }
        return found
    }

    /// Every loaded generation (current ones flagged), and the refused files.
    public func list() -> (plugins: [PluginStatus], problems: [PluginProblem]) {
        let (generations, problems) = state.withLock { ($0.generations, $0.problems) }
        let plugins = generations.keys.sorted().flatMap { name in
            generations[name]!.map { status($0, current: $0 === generations[name]!.last) }
        }
        return (plugins, problems.values.sorted { $0.file < $1.file })
    }

    private func status(_ p: LoadedPlugin, current: Bool) -> PluginStatus {
        PluginStatus(name: p.descriptor.name, kind: p.descriptor.kind.rawValue, version: p.descriptor.version, abi: p.descriptor.abi,
                     buildSignature: p.descriptor.buildSignature, file: p.file, generation: p.generation,
                     loadedAt: UTCTime.iso(Int64(p.loadedAt.timeIntervalSince1970)), current: current, operations: p.operations)
    }

    private func load(_ path: String) -> Result<LoadedPlugin, PluginRefusal> {
        let serial = state.withLock { s -> Int in s.counter += 1; return s.counter }
        let copy = (scratch as NSString).appendingPathComponent("\(serial)-\((path as NSString).lastPathComponent)")
        do {
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try FileManager.default.copyItem(atPath: path, toPath: copy)
        } catch {
            return .failure(.init("cannot copy to \(copy): \(error.localizedDescription)"))
        }
        // The mapping outlives the name; nothing is left behind in the scratch directory.
        defer { unlink(copy) }
        guard let handle = dlopen(copy, RTLD_NOW | RTLD_LOCAL) else {
            return .failure(.init("dlopen failed: \(dlerror().map { String(cString: $0) } ?? "unknown error")"))
        }
        guard let symbol = dlsym(handle, KTRDR_PLUGIN_SYMBOL) else {
            // Not ours: it stays mapped (harmless; closing foreign code that may be Swift is not).
            return .failure(.init("no \(KTRDR_PLUGIN_SYMBOL) symbol: not a ktrdr plugin"))
        }
        let entry = unsafeBitCast(symbol, to: ktrdr_plugin_descriptor_fn.self)
        guard let raw = entry() else { return .failure(.init("\(KTRDR_PLUGIN_SYMBOL)() returned NULL")) }
        switch PluginDescriptor.check(raw) {
        case let .failure(refusal): return .failure(refusal)
        case let .success(descriptor):
            let generation = state.withLock { ($0.generations[descriptor.name]?.last?.generation ?? 0) + 1 }
            let plugin = LoadedPlugin(descriptor: descriptor, file: path, generation: generation, info: raw)
            if descriptor.kind == .model { plugin.modelTable.set_threads(Int32(modelThreads)) }
            return .success(plugin)
        }
    }

    private static func identity(_ path: String) -> FileIdentity? {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return FileIdentity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(st.st_size),
                            mtime: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec))
    }
}
