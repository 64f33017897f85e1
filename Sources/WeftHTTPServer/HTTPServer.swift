public import NIOCore
public import NIOHTTP1
import NIOPosix

/// One answer of an `HTTPServer`: status, content type and body, then the connection closes.
public struct HTTPAnswer: Sendable {
    public var status: HTTPResponseStatus
    public var contentType: String
    public var body: String

    public init(status: HTTPResponseStatus, contentType: String, body: String) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }
}

/// A small HTTP/1.1 server on SwiftNIO's codec, on TCP or a unix socket: each request is read
/// whole (bodies above 1 MiB are refused with 413), answered by `handle` (which may wait, as an
/// allocation waiting for agreement does, without holding the event loop), and the connection
/// closed. The router's local API and the Docker plugin serve through it.
public enum HTTPServer {
    public static let maxBody = 1 << 20

    /// What a handler gets: the request head, its body, and the client's port (TCP).
    public typealias Handler = @Sendable (HTTPRequestHead, [UInt8], Int?) async -> HTTPAnswer

    /// Binds TCP `host:port` and returns the listening channel.
    public static func bind(host: String, port: Int, group: any EventLoopGroup,
                            handle: @escaping Handler) async throws -> any Channel {
        try await bootstrap(group: group, handle: handle).bind(host: host, port: port).get()
    }

    /// Binds the unix socket at `path` (an old socket file there is replaced) and returns the
    /// listening channel.
    public static func bind(unixSocket path: String, group: any EventLoopGroup,
                            handle: @escaping Handler) async throws -> any Channel {
        try await bootstrap(group: group, handle: handle).bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
    }

    private static func bootstrap(group: any EventLoopGroup, handle: @escaping Handler) -> ServerBootstrap {
        ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(RequestHandler(handle: handle))
                }
            }
    }
}

/// Collects one request and writes its answer.
final class RequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let handle: HTTPServer.Handler
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false

    init(handle: @escaping HTTPServer.Handler) { self.handle = handle }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(h):
            head = h
            body = []
            tooLarge = false
        case var .body(chunk):
            if body.count + chunk.readableBytes > HTTPServer.maxBody { tooLarge = true } else {
                body += chunk.readBytes(length: chunk.readableBytes) ?? []
            }
        case .end:
            guard let head else { return }
            let promise = context.eventLoop.makePromise(of: HTTPAnswer.self)
            if tooLarge {
                promise.succeed(HTTPAnswer(status: .payloadTooLarge, contentType: "text/plain; charset=utf-8",
                                           body: "request body too large\n"))
            } else {
                let body = body
                let port = context.channel.remoteAddress?.port
                promise.completeWithTask { [handle] in await handle(head, body, port) }
            }
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            promise.futureResult.whenSuccess { answer in
                Self.respond(answer, version: head.version, context: bound.value)
            }
        }
    }

    private static func respond(_ answer: HTTPAnswer, version: HTTPVersion, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: answer.contentType)
        headers.add(name: "Content-Length", value: String(answer.body.utf8.count))
        headers.add(name: "Connection", value: "close")
        context.write(NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: version, status: answer.status,
                                                                          headers: headers))), promise: nil)
        context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: answer.body)))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}
