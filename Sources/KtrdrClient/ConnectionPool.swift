import Foundation
import KtrdrAPI
import NIOCore
import NIOHTTP1
import NIOPosix

/// Kept-alive HTTP/1.1 connections to one server (a worker), reused call after call: a read
/// through a server to its worker costs one round trip, not a connection set-up. One request
/// at a time per connection; a connection that fails, times out or is told to close is dropped.
public actor ConnectionPool {
    struct Connection: Sendable {
        let channel: any Channel
        let collector: NIOLoopBound<ResponseCollector>
    }

    struct Response: Sendable {
        var status: Int
        var body: [UInt8]
        var keepAlive: Bool
    }

    let host: String
    let port: Int
    let socketPath: String?
    let group: any EventLoopGroup
    private var idle: [Connection] = []
    /// Idle connections kept at most.
    static let keep = 8

    public init(url: String, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) throws(ClientError) {
        let probe = try AsyncDaemonClient(url: url)
        (host, port, socketPath, self.group) = (probe.host, probe.port, probe.socketPath, group)
    }

    func checkout() async throws -> Connection {
        while let c = idle.popLast() {
            if c.channel.isActive { return c }
        }
        let bootstrap = ClientBootstrap(group: group).connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector())
                }
            }
        let channel = if let socketPath { try await bootstrap.connect(unixDomainSocketPath: socketPath).get() } else {
            try await bootstrap.connect(host: host, port: port).get()
        }
        let collector = try await channel.eventLoop.submit {
            NIOLoopBound(try channel.pipeline.syncOperations.handler(type: ResponseCollector.self), eventLoop: channel.eventLoop)
        }.get()
        return Connection(channel: channel, collector: collector)
    }

    /// Connections open and waiting for the next call.
    public var idleCount: Int { idle.filter { $0.channel.isActive }.count }

    func checkin(_ c: Connection, reusable: Bool) {
        if reusable, c.channel.isActive, idle.count < Self.keep { idle.append(c) } else { c.channel.close(promise: nil) }
    }

    /// One request on a pooled connection; a cancelled call closes its connection.
    func send(_ parts: [HTTPClientRequestPart]) async throws -> Response {
        let c = try await checkout()
        do {
            let response = try await withTaskCancellationHandler {
                try await c.channel.eventLoop.flatSubmit { () -> EventLoopFuture<Response> in
                    let promise = c.channel.eventLoop.makePromise(of: Response.self)
                    c.collector.value.expect(promise)
                    for part in parts { c.channel.write(part, promise: nil) }
                    c.channel.flush()
                    return promise.futureResult
                }.get()
            } onCancel: { c.channel.close(promise: nil) }
            checkin(c, reusable: response.keepAlive)
            return response
        } catch {
            c.channel.close(promise: nil)
            throw error
        }
    }
}

/// Collects one response at a time into the promise of the request in flight.
final class ResponseCollector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    private var promise: EventLoopPromise<ConnectionPool.Response>?
    private var response = ConnectionPool.Response(status: 0, body: [], keepAlive: true)

    func expect(_ p: EventLoopPromise<ConnectionPool.Response>) {
        promise = p
        response = ConnectionPool.Response(status: 0, body: [], keepAlive: true)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(head):
            response.status = Int(head.status.code)
            response.keepAlive = head.isKeepAlive
        case let .body(buffer):
            response.body.append(contentsOf: buffer.readableBytesView)
        case .end:
            let p = promise
            promise = nil
            p?.succeed(response)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise?.fail(ClientError(code: "connection_closed", message: "the connection closed before the end of the response"))
        promise = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise?.fail(error)
        promise = nil
        context.close(promise: nil)
    }
}
