import Foundation
import KtrdrClient
import KtrdrOperations
import Logging
import ServiceLifecycle
import Foundation

/// A worker started with `--server URL`: registers itself and heartbeats every `interval`
/// seconds, so a cluster only has to start worker processes (pods) for the server to use them.
struct HeartbeatService: Service {
    let serverURL: String
    let token: String?
    let interval: Double
    let service: ApiService
    let logger: Logger

    func run() async throws {
        try? await cancelWhenGracefulShutdown { try await beat() }
    }

    private func beat() async throws {
        var client = try AsyncDaemonClient(url: serverURL, token: token)
        client.timeout = .seconds(max(1, interval))
        var registered = false
        var failures = 0
        do {
            while !Task.isCancelled {
                do throws(ClientError) {
                    try await client.register(await service.workerInfo())
                    if !registered { logger.info("registered with server", metadata: ["server": "\(serverURL)", "url": "\(service.advertisedURL ?? "")"]) }
                    registered = true
                    failures = 0
                } catch {
                    failures += 1
                    // Every failure at first, then one in ten: a server down for long is not a log flood.
                    if failures <= 3 || failures % 10 == 0 {
                        logger.warning("heartbeat to server failed", metadata: ["server": "\(serverURL)", "error": "\(error.message)", "failures": "\(failures)"])
                    }
                    registered = false
                }
                try await Task.sleep(for: .milliseconds(Int(interval * 1000)))
            }
        }
    }
}

/// On a server: forgets registered workers whose heartbeats stopped.
struct WorkerPruneService: Service {
    let workers: WorkerDirectory
    let logger: Logger

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: .seconds(1))
                for url in await workers.prune() { logger.warning("worker forgotten: no heartbeat", metadata: ["worker": "\(url)"]) }
            }
        }
    }
}

/// Isolation `process`: stops drained worker processes of old plugin generations, and all of
/// them at shutdown.
struct WorkerPoolService: Service {
    let pool: ChildPool

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: .milliseconds(500))
                await pool.reap()
            }
        }
        pool.stop()
    }
}

/// A daemon's worker process: shuts down when the daemon that started it is gone.
struct ParentWatchService: Service {
    let parent: Int32
    let trigger: ShutdownTrigger
    let logger: Logger

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: .milliseconds(250))
                if getppid() != parent {
                    logger.warning("parent daemon gone; stopping", metadata: ["parent": "\(parent)"])
                    trigger.fire()
                    return
                }
            }
        }
    }
}
