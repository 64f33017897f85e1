import NIOCore
import WeftCrypto

/// Timing and identity a connection needs for its handshake and deadlines.
struct PeerConnectionSettings: Sendable {
    var identity: PeerIdentity
    var password: PasswordKey?
    var capabilities: [String]
    var handshakeTimeout: TimeAmount
    var heartbeatInterval: TimeAmount
    var readTimeout: TimeAmount
    var writeTimeout: TimeAmount
}

/// One mesh connection: runs the handshake, then seals and opens every frame and turns frames
/// into `MeshMessage`s for the mesh.
///
/// Handshake: both sides send the 8-byte `ProtocolHeader` at once; once the version is agreed,
/// a `KeyHello` frame in clear (with a password, the CPace share for that version); then the
/// `HandshakeFeatures` frame, sealed under the session key when a password is set. With a
/// password the side that dialled sends its features first and the other waits until it has
/// opened them: a remote that has proved nothing receives nothing that depends on the password.
/// A side that cannot open the other's features holds another password and closes. Deadlines:
/// the handshake must finish in `handshakeTimeout`; later a connection that sends nothing for
/// `readTimeout`, or cannot take writes for `writeTimeout`, is closed. Heartbeats every `heartbeatInterval` keep a quiet connection alive.
final class PeerConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = MeshFrame
    typealias OutboundIn = MeshMessage
    typealias OutboundOut = ByteBuffer

    private enum Phase { case header, hello, features, established, closed }

    /// The random frame an accepting side sends a dialler that failed to prove the password.
    static let refusalSize = 32

    private let settings: PeerConnectionSettings
    private let origin: ConnectionOrigin
    private let delegate: any PeerConnectionDelegate
    private let connectionID = secureRandomUInt64()
    private var phase = Phase.header
    private var version: UInt8 = 0
    private var exchange: PasswordKeyExchange?
    /// Whether our features went out (with a password, the accepting side waits for the
    /// dialler's).
    private var sentFeatures = false
    private var keys: SessionKeys?
    private var sendCounter: UInt64 = 0
    private var receiveCounter: UInt64 = 0
    private var connection: EstablishedConnection?
    private var failure: HandshakeFailure?
    private var closeReason: String?
    private var handshakeTimer: Scheduled<Void>?
    private var heartbeatTimer: RepeatedTask?
    private var lastRead = NIODeadline.now()
    private var unwritableSince: NIODeadline?

    init(settings: PeerConnectionSettings, origin: ConnectionOrigin, delegate: any PeerConnectionDelegate) {
        self.settings = settings
        self.origin = origin
        self.delegate = delegate
    }

    func channelActive(context: ChannelHandlerContext) {
        lastRead = .now()
        var header = context.channel.allocator.buffer(capacity: 64)
        header.writeBytes(ProtocolHeader.ours.bytes)
        context.writeAndFlush(wrapOutboundOut(header), promise: nil)
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        handshakeTimer = context.eventLoop.scheduleTask(in: settings.handshakeTimeout) {
            let (handler, context) = bound.value
            if handler.phase != .established { handler.fail(context: context, .timeout) }
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard phase != .closed else { return }
        lastRead = .now()
        switch unwrapInboundIn(data) {
        case let .header(bytes):
            do {
                let remote = try ProtocolHeader(bytes: bytes)
                version = try ProtocolHeader.ours.negotiate(with: remote)
            } catch {
                fail(context: context, error)  // typed: HandshakeFailure
                return
            }
            // Version 1 is refused at the remote's key hello (below); we send none for it.
            if version >= ProtocolHeader.oldestSpoken { sendHello(context: context) } else { phase = .hello }
        case let .frame(frame):
            switch phase {
            case .hello: receiveHello(context: context, frame)
            case .features: receiveFeatures(context: context, frame)
            case .established: receiveMessage(context: context, frame)
            case .header, .closed: fail(context: context, .malformed("frame before header"))
            }
        }
    }

    /// The key hello, once the version is agreed (the CPace generator is bound to it).
    private func sendHello(context: ChannelHandlerContext) {
        if let password = settings.password {
            do { exchange = try PasswordKeyExchange(password: password, channel: Array("weft".utf8) + [version]) } catch {
                fail(context: context, .malformed("key exchange: \(error)"))
                return
            }
        }
        var hello = ByteBuffer()
        KeyHello(publicKey: exchange?.share).encode(into: &hello)
        writeFrame(context: context, hello, sealed: false)
        context.flush()
        phase = .hello
    }

    private func sendFeatures(context: ChannelHandlerContext) {
        var features = ByteBuffer()
        HandshakeFeatures(name: settings.identity.name, nickname: settings.identity.nickname,
                          uid: settings.identity.uid, connectionID: connectionID,
                          capabilities: settings.capabilities).encode(into: &features)
        writeFrame(context: context, features, sealed: true)
        context.flush()
        sentFeatures = true
    }

    private func receiveHello(context: ChannelHandlerContext, _ frame: ByteBuffer) {
        guard version >= ProtocolHeader.oldestSpoken else {
            fail(context: context, .versionMismatch(ours: ProtocolHeader.oldestSpoken...ProtocolHeader.ours.maxVersion,
                                                    theirs: version...version))
            return
        }
        var frame = frame
        let hello: KeyHello
        do { hello = try KeyHello.decode(&frame) } catch {
            fail(context: context, .malformed("key hello: \(error)"))
            return
        }
        switch (settings.password, hello.publicKey, exchange) {
        case (nil, nil, _):
            break
        case (.some, nil, _):
            fail(context: context, .remoteUnencrypted)
            return
        case (nil, .some, _):
            fail(context: context, .remoteEncrypted)
            return
        case let (.some, .some(remoteShare), .some(exchange)):
            do {
                keys = try SessionKeys(exchange: exchange, remoteShare: remoteShare, isInitiator: origin.outbound)
            } catch {
                fail(context: context, .malformed("key exchange: \(error)"))
                return
            }
        case (.some, .some, nil):
            fail(context: context, .malformed("no local key exchange"))
            return
        }
        // With a password, the accepting side answers only once the dialler proved it (below).
        if settings.password == nil || origin.outbound { sendFeatures(context: context) }
        phase = .features
    }

    private func receiveFeatures(context: ChannelHandlerContext, _ frame: ByteBuffer) {
        guard var plain = open(frame) else {
            if !sentFeatures {
                // The dialler did not prove the password: instead of our features, random bytes
                // in their place, which it fails to open as it would features sealed under
                // another password (so it can say "wrong password"). They depend on nothing.
                var refusal = context.channel.allocator.buffer(capacity: 4 + Self.refusalSize)
                refusal.writeInteger(UInt32(Self.refusalSize), endianness: .big)
                refusal.writeBytes(secureRandomBytes(Self.refusalSize))
                context.writeAndFlush(wrapOutboundOut(refusal), promise: nil)
            }
            fail(context: context, .authenticationFailed)
            return
        }
        let remote: HandshakeFeatures
        do { remote = try HandshakeFeatures.decode(&plain) } catch {
            fail(context: context, .malformed("features: \(error)"))
            return
        }
        // The dialler proved the password (its features opened): now ours.
        if !sentFeatures { sendFeatures(context: context) }
        if remote.name == settings.identity.name {
            fail(context: context, .connectToSelf)
            return
        }
        let established = EstablishedConnection(
            origin: origin, remote: remote, connectionUID: connectionID ^ remote.connectionID,
            keys: keys, version: version, channel: context.channel)
        // Established before the mesh hears of it: its first sends (the state exchange) are
        // written from inside the call below, on this event loop.
        connection = established
        phase = .established
        handshakeTimer?.cancel()
        if delegate.handshakeSucceeded(established) != nil {
            // The mesh has logged and counted the refusal; close without reporting it again.
            phase = .closed
            context.close(promise: nil)
            return
        }
        startHeartbeat(context: context)
    }

    private func receiveMessage(context: ChannelHandlerContext, _ frame: ByteBuffer) {
        guard let connection else { return }
        guard var plain = open(frame) else {
            closeReason = "a message failed authentication"
            context.close(promise: nil)
            return
        }
        let size = plain.readableBytes
        do {
            let message = try MeshMessage.decode(&plain)
            MeshMetrics.received(message, bytes: size)
            if message != .heartbeat { delegate.received(message, on: connection) }
        } catch {
            delegate.rejected(connection, reason: "\(error)")
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let message = unwrapOutboundIn(data)
        guard phase == .established else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        var payload = context.channel.allocator.buffer(capacity: 256)
        message.encode(into: &payload)
        MeshMetrics.sent(message, bytes: payload.readableBytes)
        writeFrame(context: context, payload, sealed: true, promise: promise)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        unwritableSince = context.channel.isWritable ? nil : (unwritableSince ?? .now())
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if phase == .established {
            closeReason = "\(error)"
            context.close(promise: nil)
        } else {
            fail(context: context, (error as? HandshakeFailure) ?? .malformed("\(error)"))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        handshakeTimer?.cancel()
        heartbeatTimer?.cancel()
        switch phase {
        case .established:
            if let connection { delegate.closed(connection, reason: closeReason ?? "connection closed") }
        case .closed:
            break
        case .header, .hello, .features:
            delegate.handshakeFailed(origin, failure: failure ?? .closed)
        }
        phase = .closed
        context.fireChannelInactive()
    }

    // MARK: helpers

    private func fail(context: ChannelHandlerContext, _ failure: HandshakeFailure) {
        guard phase != .established, phase != .closed else { return }
        self.failure = failure
        handshakeTimer?.cancel()
        delegate.handshakeFailed(origin, failure: failure)
        phase = .closed
        context.close(promise: nil)
    }

    private func startHeartbeat(context: ChannelHandlerContext) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        heartbeatTimer = context.eventLoop.scheduleRepeatedTask(
            initialDelay: settings.heartbeatInterval, delay: settings.heartbeatInterval
        ) { _ in
            let (handler, context) = bound.value
            handler.heartbeat(context: context)
        }
    }

    private func heartbeat(context: ChannelHandlerContext) {
        guard phase == .established else { return }
        let now = NIODeadline.now()
        if now - lastRead > settings.readTimeout {
            closeReason = "nothing received for \(settings.readTimeout.nanoseconds / 1_000_000_000) s"
            context.close(promise: nil)
        } else if let since = unwritableSince, now - since > settings.writeTimeout {
            closeReason = "could not send for \(settings.writeTimeout.nanoseconds / 1_000_000_000) s"
            context.close(promise: nil)
        } else if keys != nil, max(sendCounter, receiveCounter) >= aeadRotationLimit {
            // Its keys sealed as many messages as one key should: a new connection, new keys.
            closeReason = "renewing the keys after \(aeadRotationLimit) messages"
            context.close(promise: nil)
        } else {
            write(context: context, data: NIOAny(MeshMessage.heartbeat), promise: nil)
            context.flush()
        }
    }

    /// Writes `payload` as one frame, sealed under the session's sending key when there is one.
    private func writeFrame(context: ChannelHandlerContext, _ payload: ByteBuffer, sealed: Bool,
                            promise: EventLoopPromise<Void>? = nil) {
        guard sealed, let key = keys?.tcpSend else {
            var out = context.channel.allocator.buffer(capacity: 4 + payload.readableBytes)
            out.writeInteger(UInt32(payload.readableBytes), endianness: .big)
            out.writeImmutableBuffer(payload)
            context.write(wrapOutboundOut(out), promise: promise)
            return
        }
        let sealedLength = payload.readableBytes + AEADKey.overhead
        var out = context.channel.allocator.buffer(capacity: 4 + sealedLength)
        out.writeInteger(UInt32(sealedLength), endianness: .big)
        let counter = sendCounter
        sendCounter += 1
        let ok = payload.withUnsafeReadableBytes { plain in
            out.writeWithUnsafeMutableBytes(minimumWritableBytes: sealedLength) { dst in
                // A refusal (never, with the buffer sized for it) closes the connection below.
                (try? key.seal(plain, counter: counter, into: dst)) ?? 0
            } == sealedLength
        }
        guard ok else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            context.close(promise: nil)
            return
        }
        context.write(wrapOutboundOut(out), promise: promise)
    }

    /// Opens a frame under the receiving key (or passes it through without a password); nil when
    /// it does not authenticate.
    private func open(_ frame: ByteBuffer) -> ByteBuffer? {
        guard let key = keys?.tcpReceive else { return frame }
        guard frame.readableBytes >= AEADKey.overhead else { return nil }
        var out = ByteBuffer()
        let counter = receiveCounter
        var opened = false
        _ = frame.withUnsafeReadableBytes { sealed in
            out.writeWithUnsafeMutableBytes(minimumWritableBytes: max(1, sealed.count)) { dst in
                // Not authentic: the caller drops, counts and closes.
                guard let n = try? key.open(sealed, counter: counter, into: dst) else { return 0 }
                opened = true
                return n
            }
        }
        guard opened else { return nil }
        receiveCounter += 1
        return out
    }
}
