import FoundationEssentials
import Glibc
public import NIOCore
import NIOPosix
import Metrics
import Synchronization
import WeftTypes

/// Forwards queries the router does not answer to the host's resolvers (its resolv.conf): over
/// UDP, each try from a socket of its own (so a fresh port the kernel picks at random) connected
/// to the server asked, under a fresh random ID, the next server after `timeout`; over TCP when
/// the UDP answer came truncated or the client asked over TCP. An answer counts only when it
/// has the try's ID, the response bit, and the query's question: an off-path spoofer must guess
/// port and ID at once, and an on-path one that answers another question is not believed.
/// Datagrams that fail the match are counted (`weft_dns_upstream_mismatched_total`).
public final class UpstreamResolver: Sendable {
    public let servers: [SocketAddress]
    let timeout: TimeAmount
    private let group: any EventLoopGroup
    private let mismatched = Counter(label: "weft_dns_upstream_mismatched_total")

    /// The IPv4 `nameserver` lines of a resolv.conf text (port 53).
    public static func servers(resolvConf text: String) -> [SocketAddress] {
        text.split(whereSeparator: \.isNewline).compactMap { line in
            let words = line.split(whereSeparator: \.isWhitespace)
            guard words.count >= 2, words[0] == "nameserver" else { return nil }
            // An IPv6 or malformed nameserver line: not a server this resolver can use.
            return try? SocketAddress(ipAddress: String(words[1]), port: 53)
        }.filter { $0.protocol == .inet }
    }

    /// Nothing is opened until a query: each try has a socket of its own.
    public init(servers: [SocketAddress], timeout: TimeAmount = .seconds(2), group: any EventLoopGroup) {
        self.servers = servers
        self.timeout = timeout
        self.group = group
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
        let id = UInt16.random(in: 0...UInt16.max)
        let sent = [UInt8(id >> 8), UInt8(id & 0xFF)] + query.dropFirst(2)
        let loop = group.next()
        let promise = loop.makePromise(of: [UInt8].self)
        let channel: any Channel
        do {
            channel = try await DatagramBootstrap(group: loop)
                .channelInitializer { [mismatched] channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(AnswerHandler { answer in
                            if Self.answers(answer, query: sent) { promise.succeed(answer) } else { mismatched.increment() }
                        })
                    }
                }
                .connect(to: server).get()
        } catch {
            promise.fail(error)  // a promise is always completed
            return nil  // no socket or no route to the server: the next server, or SERVFAIL
        }
        var buffer = channel.allocator.buffer(capacity: sent.count)
        buffer.writeBytes(sent)
        channel.writeAndFlush(buffer, promise: nil)
        let timer = loop.scheduleTask(in: timeout) { promise.fail(ChannelError.connectTimeout(self.timeout)) }
        // A timeout: no answer, which the server turns into a counted SERVFAIL.
        let answer = try? await promise.futureResult.get()
        timer.cancel()
        try? await channel.close()  // fails only when closed already
        guard var bytes = answer else { return nil }
        bytes[0] = query[0]
        bytes[1] = query[1]
        return bytes
    }

    /// The question section of a message as its bytes (after the 12-byte header, names
    /// uncompressed in a query); nil when it does not parse.
    private static func question(of message: [UInt8]) -> ArraySlice<UInt8>? {
        guard message.count >= DNSMessage.headerSize else { return nil }
        let count = Int(message[4]) << 8 | Int(message[5])
        var i = DNSMessage.headerSize
        for _ in 0..<count {
            while i < message.count, message[i] != 0 {
                guard message[i] & 0xC0 == 0 else { return nil }  // a pointer: not in a query we sent
                i += Int(message[i]) + 1
            }
            i += 1 + 4
            guard i <= message.count else { return nil }
        }
        return message[DNSMessage.headerSize..<i]
    }

    /// Whether `answer` answers the try `query` (as sent): its ID, the response bit, the same
    /// question (names compared case-insensitively, as servers may echo them in another case).
    static func answers(_ answer: [UInt8], query: [UInt8]) -> Bool {
        guard let question = question(of: query), answer.count >= DNSMessage.headerSize,
              answer[0] == query[0], answer[1] == query[1], answer[2] & 0x80 != 0,
              answer[4] == query[4], answer[5] == query[5] else { return false }
        let theirs = answer.dropFirst(DNSMessage.headerSize).prefix(question.count)
        return theirs.count == question.count && zip(theirs, question).allSatisfy { DNSName.fold($0) == DNSName.fold($1) }
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

/// Hands every datagram of a try's socket (connected: only from the server asked) to the try.
private final class AnswerHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let onAnswer: @Sendable ([UInt8]) -> Void

    init(_ onAnswer: @escaping @Sendable ([UInt8]) -> Void) { self.onAnswer = onAnswer }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        onAnswer(Array(unwrapInboundIn(data).data.readableBytesView))
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
