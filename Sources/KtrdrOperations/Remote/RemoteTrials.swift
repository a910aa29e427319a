import Foundation
import KtrdrAPI
import KtrdrClient
import KtrdrCore
import KtrdrPlugins
import Logging
import Synchronization

/// A sweep's trials still to run, shared by the server's own threads and the workers' batch
/// loops. Indices taken and not finished are `outstanding`: a batch lost with its worker is
/// given back and taken again by whoever is free.
final class TrialQueue: Sendable {
    private struct State {
        var pending: [Int]
        var cursor = 0
        var returned: [Int] = []
        var outstanding = 0
    }
    private let state: Mutex<State>

    init(_ todo: [Int]) { state = Mutex(State(pending: todo)) }

    func take(_ n: Int) -> [Int] {
        state.withLock { s in
            var out = [Int]()
            while out.count < n, let k = s.returned.popLast() { out.append(k) }
            let more = min(n - out.count, s.pending.count - s.cursor)
            if more > 0 { out += s.pending[s.cursor..<(s.cursor + more)]; s.cursor += more }
            s.outstanding += out.count
            return out
        }
    }

    func finished(_ n: Int) { state.withLock { $0.outstanding -= n } }

    func giveBack(_ indices: [Int]) {
        state.withLock { s in
            s.returned += indices
            s.outstanding -= indices.count
        }
    }

    /// Nothing left to take and nothing in flight.
    var drained: Bool { state.withLock { $0.cursor == $0.pending.count && $0.returned.isEmpty && $0.outstanding == 0 } }
}

/// Sends a sweep's trials to workers in batches sized to about half a second of work each,
/// while the server's own threads take trials too. A batch that fails goes back to the queue.
struct TrialDistributor {
    let directory: WorkerDirectory
    let config: RemoteConfig
    let logger: Logger

    /// Starts one batch loop per healthy worker running the strategy's plugin; `done` is left
    /// once per loop when it stops.
    func start(_ id: String, job: SweepJob, plugin: PluginRef?, queue: TrialQueue, token: CancellationToken, done: DispatchGroup,
               record: @escaping @Sendable (SweepTrial) -> Void) {
        done.enter()
        Task {
            defer { done.leave() }
            let workers = await directory.healthyWorkers(plugin: plugin)
            guard !workers.isEmpty else {
                logger.warning("sweep runs here only: no healthy worker with its plugin", metadata: ["operation_id": "\(id)"])
                return
            }
            logger.info("sweep distributed", metadata: ["operation_id": "\(id)", "workers": "\(workers.map(\.url).joined(separator: ","))"])
            let sha: String
            do throws(KtrdrError) { sha = try config.digests.sha256(job.dataPath) } catch {
                logger.error("sweep runs here only: \(error)", metadata: ["operation_id": "\(id)"])
                return
            }
            await withTaskGroup(of: Void.self) { group in
                for w in workers {
                    group.addTask { await loop(id, job: job, plugin: plugin, sha: sha, worker: w, queue: queue, token: token, record: record) }
                }
            }
        }
    }

    private func loop(_ id: String, job: SweepJob, plugin: PluginRef?, sha: String, worker: (url: String, info: WorkerInfo), queue: TrialQueue,
                      token: CancellationToken, record: @Sendable (SweepTrial) -> Void) async {
        let shipper = BlobShipper(directory: directory, config: config, logger: logger)
        do throws(ClientError) { try await shipper.ensure(job.dataPath, sha: sha, on: worker.url, info: worker.info, for: id) } catch {
            logger.warning("worker left out of the sweep: data not sent", metadata: ["operation_id": "\(id)", "worker": "\(worker.url)", "error": "\(error.message)"])
            return
        }
        var size = max(1, worker.info.capacity * 2)
        var run = job.request.run
        run.mode = nil
        var ran = 0
        while !token.isCancelled {
            let batch = queue.take(size)
            if batch.isEmpty {
                if queue.drained { break }
                try? await Task.sleep(for: .milliseconds(20))
                continue
            }
            let request = TrialBatch(run: run, strategySource: job.strategySource, dataSha256: sha, plugin: plugin, names: job.names,
                                     trials: batch.map { TrialBatch.Entry(index: $0, values: job.trials[$0]) }, serverOperationId: id)
            let t0 = Date()
            do throws(ClientError) {
                let client = try directory.client(worker.url, timeout: .seconds(600))
                await directory.assigned(worker.url, 1)
                defer { Task { await directory.assigned(worker.url, -1) } }
                let trials = try await client.runTrials(request)
                guard trials.map(\.index).sorted() == batch.sorted() else {
                    throw ClientError(code: "invalid_response", message: "the worker answered other trials than asked")
                }
                for t in trials { record(t) }
                queue.finished(batch.count)
                ran += batch.count
                let seconds = max(0.01, Date().timeIntervalSince(t0))
                size = min(512, max(1, Int((Double(size) * 0.5 / seconds).rounded())))
            } catch {
                queue.giveBack(batch)
                await directory.failed(worker.url, error.message)
                logger.warning("worker left out of the sweep: a batch failed; its trials go back to the queue",
                               metadata: ["operation_id": "\(id)", "worker": "\(worker.url)", "trials": "\(batch.count)", "error": "\(error.message)"])
                return
            }
        }
        logger.info("worker's share of the sweep", metadata: ["operation_id": "\(id)", "worker": "\(worker.url)", "trials": "\(ran)"])
    }
}

/// The worker side: a batch of trials run on this machine's cores, answered whole.
extension OperationManager {
    public nonisolated func runTrialBatch(_ b: TrialBatch) async throws(ApiError) -> [SweepTrial] {
        guard let blobs = config.blobs else { throw ApiError(status: 404, code: "not_a_worker", message: "this daemon is not a worker (start it with --role worker)") }
        guard blobs.has(b.dataSha256) else {
            throw ApiError(status: 409, code: "blob_missing", message: "data blob \(b.dataSha256.prefix(80)) is not on this worker: PUT /api/v1/blobs/{sha256} first")
        }
        guard !b.trials.isEmpty, b.trials.count <= 4096, !b.names.isEmpty, b.trials.allSatisfy({ $0.values.count == b.names.count }) else {
            throw .badRequest("trials: 1 to 4096 trials, each with one value per name (\(b.names.count)) expected")
        }
        if let wanted = b.plugin, !config.strategies.plugins.list().plugins.contains(where: { $0.name == wanted.name && $0.version == wanted.version }) {
            throw ApiError(status: 409, code: "plugin_mismatch", message: "plugin \(wanted.name) \(wanted.version) is not loaded on this worker")
        }
        let config = self.config, logger = self.logger, store = self.store
        let path = blobs.path(b.dataSha256)
        let job = try await Self.validated { () throws(KtrdrError) in try Self.prepareTrialBatch(b, dataPath: path, config: config) }
        let token = CancellationToken()
        let result: Result<[SweepTrial], ApiError> = await withTaskCancellationHandler {
            await Self.offPool {
                do throws(KtrdrError) {
                    let bars = try config.load(path)
                    let runner = SweepRunner(id: "batch for \(b.serverOperationId.prefix(64))", job: job, config: config, store: store, logger: logger)
                    let out = Mutex<[SweepTrial]>([])
                    WorkerPool.run(count: b.trials.count, workers: config.maxConcurrent, name: "trials", token: token) { k in
                        guard var trial = runner.runTrial(k, bars: bars, token: token) else { return false }
                        trial.index = b.trials[k].index
                        out.withLock { $0.append(trial) }
                        return true
                    }
                    if token.isCancelled { return .failure(ApiError(.cancelled)) }
                    return .success(out.withLock { $0 }.sorted { $0.index < $1.index })
                } catch { return .failure(ApiError(error)) }
            }
        } onCancel: { token.cancel() }
        return try result.get()
    }

    /// A sweep's shared run fields checked as the sweep's were, for trials given by value.
    static func prepareTrialBatch(_ b: TrialBatch, dataPath: String, config: OperationsConfig) throws(KtrdrError) -> SweepJob {
        let file = try StrategyLoader.path(for: b.run.strategyName, in: config.strategiesDirectory)
        let fixed = StrategyOverrides(params: b.run.params ?? [:], fields: b.run.overrides ?? [:])
        var first = b.run
        first.mode = "local"
        first.params = fixed.params.merging(Dictionary(zip(b.names, b.trials[0].values)) { $1 }) { $1 }
        let job = try prepare(first, config: config, source: b.strategySource, dataPath: dataPath)
        var base = job.request
        base.strategy = try StrategyLoader.parse(b.strategySource, fileName: file, expectedName: b.run.strategyName, overrides: fixed)
        return SweepJob(request: SweepRequest(run: b.run, grid: [:]), strategyFile: file, strategySource: b.strategySource, base: base, dataPath: dataPath,
                        names: b.names, trials: b.trials.map(\.values), rank: try RankMetric("sharpe_ratio", order: nil), fixed: fixed, done: [])
    }
}
