import Foundation
public import NIOCore
import NIOPosix
import Synchronization

/// Forwards queries the router does not answer to the host's resolvers (its resolv.conf): over
/// UDP through one shared socket, each try under a fresh random ID, the next server after
/// `timeout`; over TCP when the UDP answer came truncated or the client asked over TCP.
public final class UpstreamResolver: Sendable {
    public let servers: [SocketAddress]
    let timeout: TimeAmount
    private let group: any EventLoopGroup
    private let channel: any Channel
    private let pending: Mutex<[UInt16: Pending]>

    struct Pending {
        var server: SocketAddress
        var promise: EventLoopPromise<ByteBuffer>
    }

    /// The IPv4 `nameserver` lines of a resolv.conf text (port 53).
    public static func servers(resolvConf text: String) -> [SocketAddress] {
        text.split(whereSeparator: \.isNewline).compactMap { line in
            let words = line.split(whereSeparator: \.isWhitespace)
            guard words.count >= 2, words[0] == "nameserver" else { return nil }
            // An IPv6 or malformed nameserver line: not a server this resolver can use.
            return try? SocketAddress(ipAddress: String(words[1]), port: 53)
        }.filter { $0.protocol == .inet }
    }

    /// Opens the shared UDP socket (an ephemeral port in the router's namespace).
    public static func start(servers: [SocketAddress], timeout: TimeAmount = .seconds(2),
                             group: any EventLoopGroup) async throws -> UpstreamResolver {
        let box = Mutex<UpstreamResolver?>(nil)
        let channel = try await DatagramBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AnswerHandler { envelope in
                        box.withLock { $0 }?.received(envelope)
                    })
                }
            }
            .bind(host: "0.0.0.0", port: 0).get()
        let resolver = UpstreamResolver(servers: servers, timeout: timeout, group: group, channel: channel)
        box.withLock { $0 = resolver }
        return resolver
    }

    private init(servers: [SocketAddress], timeout: TimeAmount, group: any EventLoopGroup, channel: any Channel) {
        self.servers = servers
        self.timeout = timeout
        self.group = group
        self.channel = channel
        pending = Mutex([:])
    }

    public func close() async {
        try? await channel.close()  // fails only when closed already
    }

    /// The upstream answer to `query` (a whole message, its ID as the client sent it), or nil
    /// when no server answered.
    public func resolve(_ query: [UInt8], overTCP: Bool) async -> [UInt8]? {
        guard query.count >= DNSMessage.headerSize else { return nil }
        for server in servers {
            if !overTCP, let answer = await exchangeUDP(query, with: server) {
                // Truncated: the whole answer over TCP, or the truncated one if TCP fails.
                guard answer.count >= 4, answer[2] & 0x02 != 0 else { return answer }
                return await exchangeTCP(query, with: server) ?? answer
            }
            if overTCP, let answer = await exchangeTCP(query, with: server) { return answer }
        }
        return nil
    }

    // MARK: UDP

    private func exchangeUDP(_ query: [UInt8], with server: SocketAddress) async -> [UInt8]? {
        let loop = channel.eventLoop
        let promise = loop.makePromise(of: ByteBuffer.self)
        let id: UInt16 = pending.withLock { p in
            var id = UInt16.random(in: 0...UInt16.max)
            while p[id] != nil { id = UInt16.random(in: 0...UInt16.max) }
            p[id] = Pending(server: server, promise: promise)
            return id
        }
        var buffer = channel.allocator.buffer(capacity: query.count)
        buffer.writeBytes(query)
        buffer.setInteger(id, at: 0)
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: server, data: buffer), promise: nil)
        let timer = loop.scheduleTask(in: timeout) { [self] in
            if let p = pending.withLock({ $0.removeValue(forKey: id) }) { p.promise.fail(ChannelError.connectTimeout(timeout)) }
        }
        // A timeout or a refusal: no answer, which the server turns into a counted SERVFAIL.
        guard let answer = try? await promise.futureResult.get() else { return nil }
        timer.cancel()
        var bytes = Array(answer.readableBytesView)
        bytes[0] = query[0]
        bytes[1] = query[1]
        return bytes
    }

    /// An answer from the shared socket: completes the pending try with its ID, if it came
    /// from the server asked.
    private func received(_ envelope: AddressedEnvelope<ByteBuffer>) {
        guard envelope.data.readableBytes >= DNSMessage.headerSize,
              let id = envelope.data.getInteger(at: envelope.data.readerIndex, as: UInt16.self) else { return }
        let match = pending.withLock { p -> Pending? in
            guard let entry = p[id], entry.server == envelope.remoteAddress else { return nil }
            return p.removeValue(forKey: id)
        }
        match?.promise.succeed(envelope.data)
    }

    // MARK: TCP

    private func exchangeTCP(_ query: [UInt8], with server: SocketAddress) async -> [UInt8]? {
        let loop = group.next()
        let promise = loop.makePromise(of: [UInt8].self)
        let connected = ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(TCPExchangeHandler(query: query, answer: promise))
                }
            }
            .connect(to: server)
        connected.whenFailure { promise.fail($0) }
        let timer = loop.scheduleTask(in: timeout) { promise.fail(ChannelError.connectTimeout(self.timeout)) }
        // As over UDP: no answer becomes a counted SERVFAIL.
        let answer = try? await promise.futureResult.get()
        timer.cancel()
        if let channel = try? await connected.get() { try? await channel.close() }
        return answer
    }
}

/// Hands every datagram of the shared upstream socket to the resolver.
private final class AnswerHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let onAnswer: @Sendable (AddressedEnvelope<ByteBuffer>) -> Void

    init(_ onAnswer: @escaping @Sendable (AddressedEnvelope<ByteBuffer>) -> Void) { self.onAnswer = onAnswer }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        onAnswer(unwrapInboundIn(data))
    }
}

/// One query over a TCP connection: writes it with its 2-byte length when connected, and
/// completes `answer` with the first whole message that comes back.
private final class TCPExchangeHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let query: [UInt8]
    let answer: EventLoopPromise<[UInt8]>
    var received = ByteBuffer()

    init(query: [UInt8], answer: EventLoopPromise<[UInt8]>) {
        self.query = query
        self.answer = answer
    }

    func channelActive(context: ChannelHandlerContext) {
        var b = context.channel.allocator.buffer(capacity: query.count + 2)
        b.writeInteger(UInt16(query.count))
        b.writeBytes(query)
        context.writeAndFlush(wrapOutboundOut(b), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        received.writeBuffer(&chunk)
        guard let length = received.getInteger(at: received.readerIndex, as: UInt16.self),
              received.readableBytes >= 2 + Int(length) else { return }
        answer.succeed(Array(received.readableBytesView.dropFirst(2).prefix(Int(length))))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        answer.fail(ChannelError.eof)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        answer.fail(error)
        context.close(promise: nil)
    }
}
