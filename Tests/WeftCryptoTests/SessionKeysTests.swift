import Testing
import WeftCrypto

@Suite struct SessionKeysTests {
    static let password = try! PasswordKey(password: "correct horse")
    static let channel = Array("weft 2".utf8)

    static func exchange(_ password: PasswordKey = Self.password) throws -> PasswordKeyExchange {
        try PasswordKeyExchange(password: password, channel: channel)
    }

    /// Both ends of a handshake derive the same keys, crossed: what one seals the other opens.
    @Test func bothSidesAgree() throws {
        let a = try Self.exchange(), b = try Self.exchange()
        let initiator = try SessionKeys(exchange: a, remoteShare: b.share, isInitiator: true)
        let responder = try SessionKeys(exchange: b, remoteShare: a.share, isInitiator: false)
        #expect(initiator.tcpSend == responder.tcpReceive)
        #expect(initiator.tcpReceive == responder.tcpSend)
        #expect(initiator.udpSend == responder.udpReceive)
        #expect(initiator.tcpSend != initiator.tcpReceive)
        #expect(initiator.tcpSend != initiator.udpSend)
        let sealed = initiator.tcpSend.seal(Array("features".utf8), counter: 0)
        #expect(try responder.tcpReceive.open(sealed, counter: 0) == Array("features".utf8))
    }

    /// A peer with another password derives other keys: its messages fail to open.
    @Test func wrongPasswordFails() throws {
        let other = try PasswordKey(password: "Correct horse")
        let a = try Self.exchange(), b = try Self.exchange(other)
        let initiator = try SessionKeys(exchange: a, remoteShare: b.share, isInitiator: true)
        let responder = try SessionKeys(exchange: b, remoteShare: a.share, isInitiator: false)
        let sealed = initiator.tcpSend.seal(Array("hello".utf8), counter: 0)
        #expect(throws: CryptoError.authenticationFailed) { try responder.tcpReceive.open(sealed, counter: 0) }
    }

    /// Keys are bound to the exchange: a third party's share yields nothing that opens.
    @Test func keysAreBoundToBothPublicKeys() throws {
        let a = try Self.exchange(), b = try Self.exchange(), c = try Self.exchange()
        let ab = try SessionKeys(exchange: a, remoteShare: b.share, isInitiator: true)
        let cb = try SessionKeys(exchange: c, remoteShare: b.share, isInitiator: true)
        #expect(ab.tcpSend != cb.tcpSend)
    }

    /// A message opens only under the counter it was sealed with (replay and reorder fail), and
    /// any altered byte fails.
    @Test func counterAndTamperingAreDetected() throws {
        let a = try Self.exchange(), b = try Self.exchange()
        let k = try SessionKeys(exchange: a, remoteShare: b.share, isInitiator: true)
        let sealed = k.tcpSend.seal(Array(repeating: 7, count: 100), counter: 41)
        #expect(sealed.count == 100 + AEADKey.overhead)
        #expect(throws: CryptoError.authenticationFailed) { try k.tcpSend.open(sealed, counter: 42) }
        for i in [0, 50, sealed.count - 1] {
            var altered = sealed
            altered[i] ^= 1
            #expect(throws: CryptoError.authenticationFailed) { try k.tcpSend.open(altered, counter: 41) }
        }
        #expect(throws: CryptoError.messageTooShort) { try k.tcpSend.open([1, 2, 3], counter: 41) }
        #expect(try k.tcpSend.open(k.tcpSend.seal([], counter: 1), counter: 1) == [])
    }

    /// The identity, a non-point or a wrongly sized share is refused, not used.
    @Test func badSharesAreRefused() throws {
        let a = try Self.exchange()
        for share in [[UInt8](repeating: 0, count: 32), [UInt8](repeating: 0xFF, count: 32), [1, 2, 3]] {
            #expect(throws: CryptoError.self) { try SessionKeys(exchange: a, remoteShare: share, isInitiator: true) }
        }
    }

    /// The generator depends on the password and the channel (the negotiated version): shares
    /// made for another password or version give keys that do not match.
    @Test func boundToPasswordAndChannel() throws {
        let a = try Self.exchange()
        let otherChannel = try PasswordKeyExchange(password: Self.password, channel: Array("weft 3".utf8))
        let k1 = try SessionKeys(exchange: a, remoteShare: otherChannel.share, isInitiator: true)
        let k2 = try SessionKeys(exchange: otherChannel, remoteShare: a.share, isInitiator: false)
        #expect(k1.tcpSend != k2.tcpReceive)
        #expect(a.share != (try Self.exchange()).share)  // a fresh scalar per connection
    }

    /// The UDP keys under AES-256-GCM (where the CPU has it): sealed in place by one end, opened
    /// by the other with the same cipher, refused under ChaCha20-Poly1305 or another counter.
    @Test(.enabled(if: AEADKey.aes256GCMAvailable)) func aesUDPKeys() throws {
        let a = try Self.exchange(), b = try Self.exchange()
        let initiator = try SessionKeys(exchange: a, remoteShare: b.share, isInitiator: true)
            .withUDPCipher(.aes256GCM)
        let plain = try SessionKeys(exchange: b, remoteShare: a.share, isInitiator: false)
        let responder = plain.withUDPCipher(.aes256GCM)
        #expect(initiator.udpSend.cipher == .aes256GCM && initiator.tcpSend.cipher == .chacha20Poly1305)
        var buffer = [UInt8](repeating: 0, count: 64 + AEADKey.overhead)
        for i in 0..<64 { buffer[i] = UInt8(i) }
        let header: [UInt8] = [1, 2, 3]
        let sealedLength = buffer.withUnsafeMutableBytes { m in
            header.withUnsafeBytes { h in initiator.udpSend.sealInPlace(m.baseAddress!, length: 64, counter: 7, additional: h) }
        }
        #expect(sealedLength == 64 + AEADKey.overhead)
        func open(_ key: AEADKey, counter: UInt64) -> Int? {
            var copy = buffer
            return copy.withUnsafeMutableBytes { m in
                header.withUnsafeBytes { h in key.openInPlace(m.baseAddress!, length: sealedLength, counter: counter, additional: h) }
            }
        }
        #expect(open(responder.udpReceive, counter: 7) == 64)
        #expect(open(responder.udpReceive, counter: 8) == nil)
        #expect(open(plain.udpReceive, counter: 7) == nil)
    }
}
