import CKtrdrSupport
import Foundation
import KtrdrAPI
import KtrdrCore
import KtrdrOperations
import Logging
import NIOCore
import NIOPosix

/// What the control socket can ask of the daemon itself (admin methods).
public struct DaemonControl: Sendable {
    public var status: @Sendable () async -> DaemonStatus
    public var shutdown: @Sendable () -> Void

    public init(status: @escaping @Sendable () async -> DaemonStatus, shutdown: @escaping @Sendable () -> Void) {
        self.status = status
        self.shutdown = shutdown
    }
}

/// The JSON-lines control protocol on a Unix socket (SYSTEM.md §3), mode 0600.
public enum ControlSocketServer {
    public static let protocolVersion = 1
    public static let maxLine = 256 * 1024
    /// Requests one connection may have unanswered; at the cap the daemon stops reading it.
    public static let maxInFlight = 128

    /// Removes a stale socket file (no daemon answers on it); refuses when a daemon is live.
    public static func prepare(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
        if SocketProbe.answers(path: path) {
            throw ApiError(status: 409, code: "already_running", message: "another ktrdrd answers on \(path)")
        }
        try FileManager.default.removeItem(atPath: path)
    }

    /// Binds and serves until the task is cancelled.
    public static func run(path: String, service: ApiService, control: DaemonControl, logger: Logger) async throws {
        try prepare(path: path)
        let previous = umask(0o177)  // the socket file is created 0600
        let server: NIOAsyncChannel<Connection, Never>
        do {
            server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.backlog, value: 128)
                // A client that half-closes after its request (`nc -N`) still gets its replies.
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                .bind(unixDomainSocketPath: path) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFrameDecoder(maxLength: maxLine)))
                        return Connection(channel: try NIOAsyncChannel<LineFrame, ByteBuffer>(wrappingChannelSynchronously: channel),
                                          raw: channel)
                    }
                }
            umask(previous)
        } catch {
            umask(previous)
            throw error
        }
        chmod(path, 0o600)
        logger.info("control socket listening", metadata: ["path": "\(path)", "mode": "0600"])
        try await withThrowingDiscardingTaskGroup { group in
            try await server.executeThenClose { inbound in
                for try await connection in inbound {
                    group.addTask {
                        let session = ControlSession(service: service, control: control, logger: logger, peer: await connection.peerUID())
                        await session.serve(connection.channel)
                    }
                }
            }
        }
    }

    struct Connection: Sendable {
        let channel: NIOAsyncChannel<LineFrame, ByteBuffer>
        let raw: Channel

        /// The connecting process's uid, from SO_PEERCRED.
        func peerUID() async -> UInt32? {
            guard let provider = raw as? SocketOptionProvider else { return nil }
            let cred: ktrdr_ucred? = try? await provider.unsafeGetSocketOption(level: .socket, name: .init(rawValue: SO_PEERCRED)).get()
            return cred?.uid
        }
    }
}

/// Checks whether something accepts connections on a Unix socket path (blocking, short).
public enum SocketProbe {
    public static func answers(path: String) -> Bool {
        let fd = ktrdr_unix_connect(path)
        if fd >= 0 { close(fd) }
        return fd >= 0
    }
}
