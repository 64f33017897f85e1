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
}
