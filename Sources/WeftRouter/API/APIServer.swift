import NIOCore
import NIOHTTP1
import NIOPosix

/// Serves the local HTTP API on loopback with SwiftNIO's HTTP/1.1 codec. Each request is read
/// whole (bodies above 1 MiB are refused), answered by `handle` (which may wait, as an
/// allocation waiting for agreement does, without holding the event loop), and the connection
/// closed.
struct APIServer {
    static let maxBody = 1 << 20

    /// Binds and returns the listening channel.
    static func bind(host: String, port: Int, group: any EventLoopGroup,
                     handle: @escaping @Sendable (APIRequest) async -> APIResponse) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(APIHandler(handle: handle))
                }
            }
            .bind(host: host, port: port).get()
    }
}

/// Collects one request and writes its response.
final class APIHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let handle: @Sendable (APIRequest) async -> APIResponse
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false

    init(handle: @escaping @Sendable (APIRequest) async -> APIResponse) { self.handle = handle }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(h):
            head = h
            body = []
            tooLarge = false
        case var .body(chunk):
            if body.count + chunk.readableBytes > APIServer.maxBody { tooLarge = true } else {
                body += chunk.readBytes(length: chunk.readableBytes) ?? []
            }
        case .end:
            guard let head else { return }
            let promise = context.eventLoop.makePromise(of: APIResponse.self)
            if tooLarge {
                promise.succeed(.error("request body too large", .payloadTooLarge))
            } else {
                let request = APIRequest(head: head, body: body, clientPort: context.channel.remoteAddress?.port)
                promise.completeWithTask { [handle] in await handle(request) }
            }
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            promise.futureResult.whenSuccess { response in
                Self.respond(response, version: head.version, context: bound.value)
            }
        }
    }

    private static func respond(_ response: APIResponse, version: HTTPVersion, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(response.body.utf8.count))
        headers.add(name: "Connection", value: "close")
        context.write(NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: version, status: response.status,
                                                                          headers: headers))), promise: nil)
        context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: response.body)))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}
