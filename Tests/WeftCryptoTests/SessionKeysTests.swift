import Testing
import WeftCrypto

@Suite struct SessionKeysTests {
    static let password = try! PasswordKey(password: "correct horse")

    /// Both ends of a handshake derive the same keys, crossed: what one seals the other opens.
    @Test func bothSidesAgree() throws {
        let a = try EphemeralKeyPair(), b = try EphemeralKeyPair()
        let initiator = try SessionKeys(keyPair: a, remotePublicKey: b.publicKey, password: Self.password, isInitiator: true)
        let responder = try SessionKeys(keyPair: b, remotePublicKey: a.publicKey, password: Self.password, isInitiator: false)
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
        let a = try EphemeralKeyPair(), b = try EphemeralKeyPair()
        let initiator = try SessionKeys(keyPair: a, remotePublicKey: b.publicKey, password: Self.password, isInitiator: true)
        let responder = try SessionKeys(keyPair: b, remotePublicKey: a.publicKey, password: other, isInitiator: false)
        let sealed = initiator.tcpSend.seal(Array("hello".utf8), counter: 0)
        #expect(throws: CryptoError.authenticationFailed) { try responder.tcpReceive.open(sealed, counter: 0) }
    }

    /// Keys are bound to the exchange: a third party's key pair yields nothing that opens.
    @Test func keysAreBoundToBothPublicKeys() throws {
        let a = try EphemeralKeyPair(), b = try EphemeralKeyPair(), c = try EphemeralKeyPair()
        let ab = try SessionKeys(keyPair: a, remotePublicKey: b.publicKey, password: Self.password, isInitiator: true)
        let cb = try SessionKeys(keyPair: c, remotePublicKey: b.publicKey, password: Self.password, isInitiator: true)
        #expect(ab.tcpSend != cb.tcpSend)
    }

    /// A message opens only under the counter it was sealed with (replay and reorder fail), and
    /// any altered byte fails.
    @Test func counterAndTamperingAreDetected() throws {
        let a = try EphemeralKeyPair(), b = try EphemeralKeyPair()
        let k = try SessionKeys(keyPair: a, remotePublicKey: b.publicKey, password: Self.password, isInitiator: true)
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

    /// A low-order or wrongly sized public key is refused, not used.
    @Test func badPublicKeysAreRefused() throws {
        let a = try EphemeralKeyPair()
        #expect(throws: CryptoError.self) {
            try SessionKeys(keyPair: a, remotePublicKey: [UInt8](repeating: 0, count: 32), password: Self.password, isInitiator: true)
        }
        #expect(throws: CryptoError.self) {
            try SessionKeys(keyPair: a, remotePublicKey: [1, 2, 3], password: Self.password, isInitiator: true)
        }
    }

    /// The UDP keys under AES-256-GCM (where the CPU has it): sealed in place by one end, opened
    /// by the other with the same cipher, refused under ChaCha20-Poly1305 or another counter.
    @Test(.enabled(if: AEADKey.aes256GCMAvailable)) func aesUDPKeys() throws {
        let a = try EphemeralKeyPair(), b = try EphemeralKeyPair()
        let initiator = try SessionKeys(keyPair: a, remotePublicKey: b.publicKey, password: Self.password, isInitiator: true)
            .withUDPCipher(.aes256GCM)
        let plain = try SessionKeys(keyPair: b, remotePublicKey: a.publicKey, password: Self.password, isInitiator: false)
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
