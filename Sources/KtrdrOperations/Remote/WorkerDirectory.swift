import Foundation
import KtrdrAPI
import KtrdrClient
import KtrdrCore
import Synchronization

/// How a server hands backtests to workers.
public struct RemoteConfig: Sendable {
    /// Workers from the configuration (`REMOTE_BACKTEST_SERVICE_URL`, `--worker`).
    public var workers: [String]
    /// Backtests without a `mode` run remotely (`USE_REMOTE_BACKTEST_SERVICE=true`).
    public var remoteByDefault: Bool
    /// `KTRDR_WORKER_TOKEN`: sent on every call to a worker, required of registrations.
    public var token: String?
    /// A worker unreachable this long loses its operations (`worker_lost`, or a retry); also
    /// the lease a worker grants: without a read from the server for this long it stops the run.
    public var deadlineSeconds: Double = 10
    /// Further attempts on another worker after a worker is lost.
    public var retries = 0
    /// Seconds between two reads of a remote operation (progress, liveness, lease renewal).
    public var pollSeconds: Double = 0.1
    /// A registered worker not heard from for this long is forgotten.
    public var registrationTTL: Double = 10
    /// SHA-256 of the data files shipped, remembered per file identity.
    public let digests = DataDigests()
    /// Workers on this machine sharing one blob store: data files are copied in, not sent.
    public var localBlobs: BlobStore?

    public init(workers: [String], remoteByDefault: Bool, token: String?) {
        self.workers = workers
        self.remoteByDefault = remoteByDefault
        self.token = token
    }
}

/// The workers a server knows: static ones (checked through `/health`) and registered ones
/// (their heartbeats), with what this server has running on each. Picks the least busy
/// healthy worker whose plugin matches.
public actor WorkerDirectory {
    struct Entry {
        var source: String
        var info: WorkerInfo?
        var lastSeen: Date?
        var lastError: String?
        var checkedAt: Date?
        var assigned = 0
    }

    let config: RemoteConfig
    private var entries: [String: Entry] = [:]
    /// Local worker processes that ended, by pid: how (signal or status).
    private var deaths: [Int32: String] = [:]
    /// Workers that take no new work (an old plugin generation's processes).
    private var draining: Set<String> = []

    public init(config: RemoteConfig) {
        self.config = config
        for url in config.workers { entries[url] = Entry(source: "static") }
    }

    /// A client for `url` on kept-alive connections (one pool per worker).
    nonisolated func client(_ url: String, timeout: Duration = .seconds(2)) throws(ClientError) -> AsyncDaemonClient {
        var c = try AsyncDaemonClient(url: url, token: config.token)
        c.timeout = timeout
        // Local processes on Unix sockets: a connection costs next to nothing (measured: the
        // pool made isolated jobs slower there); remote workers over TCP share kept-alive ones.
        guard !url.hasPrefix("unix:") else { return c }
        c.pool = try pools.withLock { pools throws(ClientError) -> ConnectionPool in
            if let p = pools[url] { return p }
            let p = try ConnectionPool(url: url)
            pools[url] = p
            return p
        }
        return c
    }

    private nonisolated let pools = Mutex<[String: ConnectionPool]>([:])

    /// A worker's heartbeat: known (or known again) from now on.
    public func register(_ info: WorkerInfo) {
        var e = entries[info.url] ?? Entry(source: "registered")
        e.info = info
        e.lastSeen = Date()
        e.checkedAt = e.lastSeen
        e.lastError = nil
        entries[info.url] = e
    }

    /// A local worker process ended: its operations fail with this description.
    public func noteDeath(pid: Int32, _ description: String) {
        deaths[pid] = description
        for (url, e) in entries where e.info?.instance.hasPrefix("\(pid)-") == true {
            entries[url]?.lastError = "ended: \(description)"
            entries[url]?.info = nil
        }
    }

    /// How the process of `instance` (`pid-start`) ended, if it did.
    func death(instance: String) -> String? {
        guard let pid = Int32(instance.split(separator: "-").first ?? "") else { return nil }
        return deaths[pid]
    }

    /// Adds a worker known by configuration (a local worker process started later).
    public func add(_ url: String) { if entries[url] == nil { entries[url] = Entry(source: "static") } }

    /// Takes no new work; `idle` tells when its last assignment is done.
    public func drain(_ url: String) { draining.insert(url) }

    public func remove(_ url: String) {
        entries[url] = nil
        draining.remove(url)
    }

    /// Draining workers with nothing assigned.
    public func drained() -> [String] { draining.filter { (entries[$0]?.assigned ?? 0) == 0 }.sorted() }

    /// Waits until `count` workers take work (local worker processes starting), up to `timeout` s.
    public func waitReady(_ count: Int, timeout: Double) async -> Int {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while Date() < deadline {
            await refresh()
            if readyCount() >= count { break }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return readyCount()
    }

    /// Healthy workers that take work, asked again where the last answer is stale.
    public func ready() async -> Int {
        await refresh()
        return readyCount()
    }

    /// Healthy workers that take work.
    func readyCount() -> Int {
        let now = Date()
        return entries.filter { !draining.contains($0.key) && healthy($0.value, now: now) && $0.value.info != nil }.count
    }

    /// Forgets registered workers silent past the TTL; returns their URLs.
    public func prune(now: Date = Date()) -> [String] {
        let gone = entries.filter { $0.value.source == "registered" && now.timeIntervalSince($0.value.lastSeen ?? .distantPast) > config.registrationTTL }.map(\.key)
        for url in gone { entries[url] = nil }
        return gone.sorted()
    }

    private func healthy(_ e: Entry, now: Date) -> Bool {
        guard let seen = e.lastSeen else { return false }
        return e.lastError == nil && now.timeIntervalSince(seen) <= max(config.registrationTTL, 2)
    }

    /// Asks each static worker for its health when the last answer is older than a second.
    private func refresh() async {
        let now = Date()
        // Local processes are asked more often: a restarted one is used within a fraction of a second.
        let stale = entries.filter { e in
            e.value.source == "static" && now.timeIntervalSince(e.value.checkedAt ?? .distantPast) > (e.key.hasPrefix("unix:") && e.value.info == nil ? 0.05 : 1)
        }.map(\.key)
        await withTaskGroup(of: (String, Result<WorkerInfo, ClientError>).self) { group in
            for url in stale {
                guard let c = try? client(url, timeout: .seconds(1)) else { continue }
                group.addTask {
                    do throws(ClientError) {
                        let h = try await c.health()
                        guard let info = h.worker else { return (url, .failure(ClientError(code: "not_a_worker", message: "\(url) answers /health but is not a worker (role \(h.role ?? "?"))"))) }
                        return (url, .success(info))
                    } catch { return (url, .failure(error)) }
                }
            }
            for await (url, result) in group {
                guard var e = entries[url] else { continue }
                e.checkedAt = Date()
                switch result {
                case let .success(info): e.info = info; e.lastSeen = e.checkedAt; e.lastError = nil
                // A local process slow to answer (its machine busy) is not lost: only its death
                // (noteDeath) or a refused connection takes it out.
                case let .failure(error) where url.hasPrefix("unix:") && error.code == "timeout": _ = error
                case let .failure(error): e.lastError = error.message
                }
                entries[url] = e
            }
        }
    }

    /// The least busy healthy worker (this server's assignments over its capacity) running
    /// `plugin` at the same version; `excluding` workers already lost by this operation. The
    /// pick counts as assigned until `assigned(url, -1)`.
    func choose(plugin: PluginRef?, excluding: Set<String>) async throws(KtrdrError) -> (url: String, info: WorkerInfo) {
        await refresh()
        let now = Date()
        let up = entries.filter { !excluding.contains($0.key) && !draining.contains($0.key) && healthy($0.value, now: now) && $0.value.info != nil }
        guard !up.isEmpty else {
            let known = entries.map { "\($0.key) (\($0.value.lastError ?? "no heartbeat"))" }.sorted()
            throw .remote(code: "no_worker", message: "no healthy worker to run on\(excluding.isEmpty ? "" : " (lost by this operation: \(excluding.sorted().joined(separator: ", ")))"); known: \(known.isEmpty ? "none" : known.joined(separator: "; "))")
        }
        // Local processes run one operation each: a busy one is never queued on.
        let matching = up.filter { e in
            (plugin.map { e.value.info!.plugins.contains($0) } ?? true) && !(e.key.hasPrefix("unix:") && e.value.assigned >= e.value.info!.capacity)
        }
        if matching.isEmpty, let plugin, !up.contains(where: { $0.key.hasPrefix("unix:") }) {
            let offered = up.map { "\($0.key): \($0.value.info!.plugins.filter { $0.name == plugin.name }.map(\.version).joined(separator: ", "))" }.sorted()
            throw .remote(code: "plugin_mismatch", message: "no worker runs plugin \(plugin.name) \(plugin.version) (workers have: \(offered.joined(separator: "; ")))")
        }
        guard !matching.isEmpty else { throw .remote(code: "no_worker", message: "every worker process is busy or starting") }
        let best = matching.min { a, b in
            let la = Double(a.value.assigned) / Double(max(1, a.value.info!.capacity)), lb = Double(b.value.assigned) / Double(max(1, b.value.info!.capacity))
            return la != lb ? la < lb : a.key < b.key
        }!
        entries[best.key]?.assigned += 1  // reserved now: concurrent dispatches spread
        return (best.key, best.value.info!)
    }

    /// Every healthy worker running `plugin` at the same version (a sweep uses them all).
    func healthyWorkers(plugin: PluginRef?) async -> [(url: String, info: WorkerInfo)] {
        await refresh()
        let now = Date()
        return entries.keys.sorted().compactMap { url in
            guard let e = entries[url], healthy(e, now: now), let info = e.info, plugin.map(info.plugins.contains) ?? true else { return nil }
            return (url, info)
        }
    }

    func assigned(_ url: String, _ delta: Int) {
        if var e = entries[url] { e.assigned = max(0, e.assigned + delta); entries[url] = e }
    }

    /// A failed call: the worker is not chosen again until it answers.
    func failed(_ url: String, _ message: String) {
        if var e = entries[url] { e.lastError = message; e.checkedAt = Date(); entries[url] = e }
    }

    func noteBlob(_ url: String, _ sha256: String) {
        if var e = entries[url], var info = e.info, !info.blobs.contains(sha256) { info.blobs.append(sha256); e.info = info; entries[url] = e }
    }

    public func statuses() -> [WorkerStatus] {
        let now = Date()
        return entries.keys.sorted().map { url in
            let e = entries[url]!
            return WorkerStatus(url: url, source: e.source, healthy: healthy(e, now: now), lastSeen: e.lastSeen.map { UTCTime.iso(Int64($0.timeIntervalSince1970)) },
                                lastError: e.lastError, assigned: e.assigned, info: e.info)
        }
    }
}
