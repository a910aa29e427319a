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
    /// Checks new files in a child process first (see `PluginProbe`); nil maps them directly.
    public let probe: PluginProbe?
    /// Model plugins that passed their probe are mapped on first use, not at the scan: a
    /// daemon that never runs a neural strategy never loads libtorch.
    private let deferModels: Bool

    private struct FileIdentity: Equatable { var device: UInt64; var inode: UInt64; var size: Int64; var mtime: Int64 }
    private struct State {
        var generations: [String: [LoadedPlugin]] = [:]
        var seen: [String: FileIdentity] = [:]
        var problems: [String: PluginProblem] = [:]
        /// Checked model plugins not mapped yet, by name: the newest build of each.
        var pending: [String: PendingPlugin] = [:]
        var counter = 0
    }

    /// A model plugin that passed its probe and is mapped when a strategy or a training first needs it.
    private struct PendingPlugin {
        var descriptor: PluginDescriptor
        var file: String
        var copy: String
        var generation: Int
        var probedAt: Date

        var status: PluginStatus {
            PluginStatus(name: descriptor.name, kind: descriptor.kind.rawValue, version: descriptor.version, abi: descriptor.abi,
                         buildSignature: descriptor.buildSignature, file: file, generation: generation,
                         loadedAt: UTCTime.iso(Int64(probedAt.timeIntervalSince1970)), current: true, operations: [], mapped: false)
        }
    }

    /// What one scan did.
    public typealias ReloadReport = PluginReloadReport

    public init(directory: String, modelThreads: Int = 1,
                logger: Logger = Logger(label: "ktrdrd.plugins"), onDemand: Bool = false, probe: PluginProbe? = nil) {
        self.directory = directory
        self.onDemand = onDemand
        self.probe = probe
        self.deferModels = probe != nil
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
        var changed: [(path: String, identity: FileIdentity)] = []
        for name in files {
            let path = (directory as NSString).appendingPathComponent(name)
            guard let identity = Self.identity(path) else { continue }
            if state.withLock({ $0.seen[path] == identity }) {
                if let problem = state.withLock({ $0.problems[path] }) { report.problems.append(problem) } else { report.unchanged.append(path) }
                continue
            }
            changed.append((path, identity))
        }
        let copies = changed.map { copyToScratch($0.path) }
        let probed = Mutex<[Int: Result<PluginDescriptor, PluginRefusal>]>([:])
        if let probe {
            // Probes run side by side: each is a process, most of its time is the loader's.
            DispatchQueue.concurrentPerform(iterations: changed.count) { i in
                guard case let .success(copy) = copies[i] else { return }
                let outcome = probe.run(copy)
                probed.withLock { $0[i] = outcome }
            }
        }
        for (i, file) in changed.enumerated() {
            let outcome: Result<Accepted, PluginRefusal>
            switch (copies[i], probed.withLock { $0[i] }) {
            case let (.failure(refusal), _): outcome = .failure(refusal)
            case let (.success(copy), .failure(refusal)?):
                unlink(copy)
                outcome = .failure(refusal)
            case let (.success(copy), .success(descriptor)?) where descriptor.kind == .model && deferModels:
                outcome = .success(.deferred(descriptor, copy))
            case let (.success(copy), probedDescriptor):
                outcome = map(copy: copy, file: file.path, probed: probedDescriptor.flatMap { try? $0.get() }).map { .mapped($0) }
            }
            switch outcome {
            case let .success(.mapped(plugin)):
                state.withLock { s in
                    s.seen[file.path] = file.identity
                    s.problems[file.path] = nil
                    s.generations[plugin.descriptor.name, default: []].append(plugin)
                }
                logger.info("plugin loaded", metadata: ["name": "\(plugin.descriptor.name)", "version": "\(plugin.descriptor.version)",
                                                        "generation": "\(plugin.generation)", "file": "\(file.path)"])
                report.loaded.append(status(plugin, current: true))
            case let .success(.deferred(descriptor, copy)):
                let pending = state.withLock { s -> PendingPlugin in
                    let generation = max(s.generations[descriptor.name]?.last?.generation ?? 0, s.pending[descriptor.name]?.generation ?? 0) + 1
                    if let older = s.pending[descriptor.name] { unlink(older.copy) }
                    let pending = PendingPlugin(descriptor: descriptor, file: file.path, copy: copy, generation: generation, probedAt: Date())
                    s.seen[file.path] = file.identity
                    s.problems[file.path] = nil
                    s.pending[descriptor.name] = pending
                    return pending
                }
                logger.info("plugin checked; mapped when first used", metadata: ["name": "\(descriptor.name)", "version": "\(descriptor.version)",
                                                                                 "generation": "\(pending.generation)", "file": "\(file.path)"])
                report.loaded.append(pending.status)
            case let .failure(refusal):
                let problem = PluginProblem(file: file.path, name: refusal.name, message: refusal.message)
                state.withLock { s in
                    s.seen[file.path] = file.identity
                    s.problems[file.path] = problem
                }
                logger.error("plugin refused", metadata: ["file": "\(file.path)", "reason": "\(refusal.message)"])
                report.problems.append(problem)
            }
        }
        return report
    }

    private enum Accepted { case mapped(LoadedPlugin), deferred(PluginDescriptor, String) }

    /// Maps the checked, not yet mapped generation of `name`, if there is one (serialised with scans).
    private func mapPending(_ name: String) {
        guard state.withLock({ $0.pending[name] != nil }) else { return }
        scanning.withLock { _ in
            guard let pending = state.withLock({ $0.pending.removeValue(forKey: name) }) else { return }
            switch map(copy: pending.copy, file: pending.file, probed: pending.descriptor, generation: pending.generation) {
            case let .success(plugin):
                state.withLock { $0.generations[name, default: []].append(plugin) }
                logger.info("plugin mapped on first use", metadata: ["name": "\(name)", "version": "\(plugin.descriptor.version)",
                                                                     "generation": "\(plugin.generation)", "file": "\(pending.file)"])
            case let .failure(refusal):
                state.withLock { $0.problems[pending.file] = PluginProblem(file: pending.file, name: name, message: refusal.message) }
                logger.error("plugin refused", metadata: ["file": "\(pending.file)", "reason": "\(refusal.message)"])
            }
        }
    }

    /// The generation new operations get for `name`, of `kind`.
    public func plugin(named name: String, kind: PluginDescriptor.Kind) throws(KtrdrError) -> LoadedPlugin {
        mapPending(name)
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
        let (generations, pending, problems) = state.withLock { ($0.generations, $0.pending, $0.problems) }
        let plugins = Set(generations.keys).union(pending.keys).sorted().flatMap { name in
            (generations[name] ?? []).map { status($0, current: pending[name] == nil && $0 === generations[name]!.last) }
                + (pending[name].map { [$0.status] } ?? [])
        }
        return (plugins, problems.values.sorted { $0.file < $1.file })
    }

    private func status(_ p: LoadedPlugin, current: Bool) -> PluginStatus {
        PluginStatus(name: p.descriptor.name, kind: p.descriptor.kind.rawValue, version: p.descriptor.version, abi: p.descriptor.abi,
                     buildSignature: p.descriptor.buildSignature, file: p.file, generation: p.generation,
                     loadedAt: UTCTime.iso(Int64(p.loadedAt.timeIntervalSince1970)), current: current, operations: p.operations, mapped: true)
    }

    /// A private copy of `path` to load from: `dlopen` caches by path, and a rebuild that
    /// overwrites the original in place must not change code that is mapped or probed.
    private func copyToScratch(_ path: String) -> Result<String, PluginRefusal> {
        let serial = state.withLock { s -> Int in s.counter += 1; return s.counter }
        let copy = (scratch as NSString).appendingPathComponent("\(serial)-\((path as NSString).lastPathComponent)")
        do {
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try FileManager.default.copyItem(atPath: path, toPath: copy)
        } catch {
            return .failure(.init("cannot copy to \(copy): \(error.localizedDescription)"))
        }
        return .success(copy)
    }

    /// Maps `copy` into this process and checks its descriptor (again the probe's, when probed).
    private func map(copy: String, file: String, probed: PluginDescriptor?, generation: Int? = nil) -> Result<LoadedPlugin, PluginRefusal> {
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
            if let probed, probed != descriptor {
                return .failure(.init("descriptor differs between the probe (\(probed.name) \(probed.version)) and the load (\(descriptor.name) \(descriptor.version))", name: descriptor.name))
            }
            let number = generation ?? state.withLock { ($0.generations[descriptor.name]?.last?.generation ?? 0) + 1 }
            let plugin = LoadedPlugin(descriptor: descriptor, file: file, generation: number, info: raw)
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
