import Metrics
public import NIOCore
import NIOPosix
import Synchronization

/// The DNS server: UDP and TCP on one address, port 53. Queries the responder answers are
/// answered on the event loop that read them (a batch of datagrams per read, the answers
/// flushed together); the rest go to the upstream resolvers.
public final class DNSServer: Sendable {
    /// Answers a decoded query (the record store lives behind it).
    public typealias Answer = @Sendable (DNSMessage) -> DNSResponder.Outcome

    private let udp: any Channel
    private let tcp: any Channel
    private let upstream: UpstreamResolver

    /// Binds both sockets. Throws when the address cannot be bound.
    public static func start(host: String, port: Int, group: any EventLoopGroup, upstream: UpstreamResolver,
                             answer: @escaping Answer) async throws -> DNSServer {
        let core = DNSQueryCore(answer: answer, upstream: upstream)
        let udp = try await DatagramBootstrap(group: group)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.datagramVectorReadMessageCount, value: 32)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 32 * 2048))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(UDPQueryHandler(core: core))
                }
            }
            .bind(host: host, port: port).get()
        let tcp: any Channel
        do {
            tcp = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        // A connection that sends nothing for 10 s is closed (RFC 7766 §6.2.3).
                        try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: .seconds(10)))
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(DNSLengthFramer()))
                        try channel.pipeline.syncOperations.addHandler(TCPQueryHandler(core: core))
                    }
                }
                .bind(host: host, port: port).get()
        } catch {
            try? await udp.close()  // the bind error is what the caller needs; this one adds nothing
            throw error
        }
        return DNSServer(udp: udp, tcp: tcp, upstream: upstream)
    }

    private init(udp: any Channel, tcp: any Channel, upstream: UpstreamResolver) {
        self.udp = udp
        self.tcp = tcp
        self.upstream = upstream
    }

    public func stop() async {
        // Closing fails only for a channel closed already.
        try? await udp.close()
        try? await tcp.close()
    }
}

/// What both transports share: decoding, answering, forwarding, counting.
struct DNSQueryCore: Sendable {
    let answer: DNSServer.Answer
    let upstream: UpstreamResolver
    /// Forwarded queries waiting for an upstream answer; beyond `maxOutstanding` new ones get
    /// SERVFAIL at once instead of piling up behind a slow upstream.
    let outstanding = OutstandingCount()
    static let maxOutstanding = 1000
    let local = Counter(label: "weft_dns_queries_total", dimensions: [("answered", "local")])
    let forwarded = Counter(label: "weft_dns_queries_total", dimensions: [("answered", "upstream")])
    let failed = Counter(label: "weft_dns_queries_total", dimensions: [("answered", "servfail")])
    let malformed = Counter(label: "weft_dns_malformed_total")

    enum Step {
        case reply([UInt8])
        case forward(DNSMessage)
        case none
    }

    /// Decides what to do with the bytes of one query.
    func handle(_ bytes: ByteBuffer, limit: (DNSMessage) -> Int) -> Step {
        let query: DNSMessage
        do {
            query = try bytes.withUnsafeReadableBytes { raw in try DNSMessage(decoding: raw) }
        } catch {
            malformed.increment()
            return .none
        }
        switch answer(query) {
        case .drop:
            malformed.increment()
            return .none
        case let .answer(message):
            local.increment()
            return .reply(message.encoded(limit: limit(query)))
        case .forward:
            return .forward(query)
        }
    }

    /// The upstream answer to `query`, cut to `limit` (TC set) when it is larger; SERVFAIL when
    /// no upstream server answered.
    func forward(_ query: DNSMessage, bytes: [UInt8], overTCP: Bool, limit: Int) async -> [UInt8] {
        let waiting = outstanding.value.wrappingAdd(1, ordering: .relaxed).newValue
        defer { outstanding.value.wrappingSubtract(1, ordering: .relaxed) }
        if waiting <= Self.maxOutstanding, let answer = await upstream.resolve(bytes, overTCP: overTCP) {
            if answer.count <= limit {
                forwarded.increment()
                return answer
            }
            // An upstream answer too big and not even DNS: SERVFAIL below, counted.
            if let message = try? DNSMessage(decoding: answer) {
                forwarded.increment()
                return message.encoded(limit: limit)
            }
        }
        failed.increment()
        let flags = DNSMessage.qr | query.flags & (0x7800 | DNSMessage.rd) | DNSMessage.ra | DNSResponseCode.serverFailure.rawValue
        return DNSMessage(id: query.id, flags: flags, questions: query.questions).encoded(limit: limit)
    }
}

/// A counter shared by the query handlers.
final class OutstandingCount: Sendable {
    let value = Atomic<Int>(0)
}

/// UDP: answers a batch of datagrams and flushes the answers together.
final class UDPQueryHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>
    let core: DNSQueryCore

    init(core: DNSQueryCore) { self.core = core }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        switch core.handle(envelope.data, limit: DNSResponder.udpLimit(for:)) {
        case .none:
            return
        case let .reply(bytes):
            context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress,
                                                            data: context.channel.allocator.buffer(bytes: bytes))), promise: nil)
        case let .forward(query):
            let channel = context.channel
            let bytes = Array(envelope.data.readableBytesView)
            let client = envelope.remoteAddress
            Task { [core] in
                let answer = await core.forward(query, bytes: bytes, overTCP: false, limit: DNSResponder.udpLimit(for: query))
                channel.writeAndFlush(AddressedEnvelope(remoteAddress: client, data: channel.allocator.buffer(bytes: answer)),
                                      promise: nil)
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A failed send (the client went away) must not close the server's socket.
    }
}

/// TCP: one 2-byte-length-prefixed message after another on a connection (RFC 1035 §4.2.2).
final class TCPQueryHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let core: DNSQueryCore

    init(core: DNSQueryCore) { self.core = core }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch core.handle(unwrapInboundIn(data), limit: { _ in 65535 }) {
        case .none:
            context.close(promise: nil)
        case let .reply(bytes):
            context.writeAndFlush(wrapOutboundOut(Self.frame(bytes, context.channel.allocator)), promise: nil)
        case let .forward(query):
            let channel = context.channel
            let bytes = Array(unwrapInboundIn(data).readableBytesView)
            Task { [core] in
                let answer = await core.forward(query, bytes: bytes, overTCP: true, limit: 65535)
                channel.writeAndFlush(Self.frame(answer, channel.allocator), promise: nil)
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else if let e = event as? ChannelEvent, case .inputClosed = e {
            // The client is done asking; answers still on their way go out before the close.
            let channel = context.channel
            context.eventLoop.scheduleTask(in: .seconds(5)) { channel.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    static func frame(_ bytes: [UInt8], _ allocator: ByteBufferAllocator) -> ByteBuffer {
        var b = allocator.buffer(capacity: bytes.count + 2)
        b.writeInteger(UInt16(bytes.count))
        b.writeBytes(bytes)
        return b
    }
}

/// Cuts a TCP stream into DNS messages by their 2-byte length.
struct DNSLengthFramer: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self),
              buffer.readableBytes >= 2 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 2)
        context.fireChannelRead(NIOAny(buffer.readSlice(length: Int(length))!))
        return .continue
    }
}
