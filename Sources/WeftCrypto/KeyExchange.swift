import CSodium

/// A fresh X25519 key pair, made per connection so that every session has its own secret
/// (forward secrecy comes from these ephemeral keys; there are no long-term identity keys).
public struct EphemeralKeyPair: Sendable {
    /// The 32-byte public key sent to the remote peer.
    public let publicKey: [UInt8]
    let secretKey: [UInt8]

    public init() throws(CryptoError) {
        try Sodium.ready()
        let secret = secureRandomBytes(Int(crypto_scalarmult_SCALARBYTES))
        var pub = [UInt8](repeating: 0, count: Int(crypto_scalarmult_BYTES))
        _ = crypto_scalarmult_base(&pub, secret)
        publicKey = pub
        secretKey = secret
    }

    /// The X25519 shared secret with `remotePublicKey`; throws for a key of the wrong size or a
    /// low-order point (an all-zero result).
    func sharedSecret(with remotePublicKey: [UInt8]) throws(CryptoError) -> [UInt8] {
        guard remotePublicKey.count == Int(crypto_scalarmult_BYTES) else { throw CryptoError(.badPublicKey) }
        var shared = [UInt8](repeating: 0, count: Int(crypto_scalarmult_BYTES))
        guard crypto_scalarmult(&shared, secretKey, remotePublicKey) == 0 else { throw CryptoError(.badPublicKey) }
        return shared
    }
}

/// The keys of one connection: one per direction for the TCP stream and one per direction for
/// the UDP data path, all derived from the X25519 secret, the stretched password and both public
/// keys. Both ends derive the same four keys; each uses the `outbound` pair for what it sends.
public struct SessionKeys: Sendable {
    /// Seals what this side sends on TCP.
    public let tcpSend: AEADKey
    /// Opens what this side receives on TCP.
    public let tcpReceive: AEADKey
    /// Seals what this side sends over UDP (the sleeve).
    public let udpSend: AEADKey
    /// Opens what this side receives over UDP.
    public let udpReceive: AEADKey

    /// Derives the session keys. `isInitiator` is true on the side that dialled: the initiator's
    /// sending keys are the responder's receiving keys.
    public init(
        keyPair: EphemeralKeyPair, remotePublicKey: [UInt8], password: PasswordKey, isInitiator: Bool
    ) throws(CryptoError) {
        try Sodium.ready()
        let shared = try keyPair.sharedSecret(with: remotePublicKey)
        let (initiatorPub, responderPub) =
            isInitiator ? (keyPair.publicKey, remotePublicKey) : (remotePublicKey, keyPair.publicKey)
        // master = BLAKE2b-256 keyed with the password key over the DH secret and both public
        // keys, so the keys are bound to this exchange and useless without the password.
        let transcript = shared + initiatorPub + responderPub + Array("weft session v1".utf8)
        var master = [UInt8](repeating: 0, count: Int(crypto_kdf_KEYBYTES))
        _ = crypto_generichash(&master, master.count, transcript, UInt64(transcript.count),
                               password.bytes, password.bytes.count)
        func subkey(_ id: UInt64) -> AEADKey {
            var key = [UInt8](repeating: 0, count: Int(crypto_aead_chacha20poly1305_ietf_KEYBYTES))
            _ = crypto_kdf_derive_from_key(&key, key.count, id, "weftsess", master)
            return AEADKey(bytes: key)
        }
        let tcpIR = subkey(1), tcpRI = subkey(2), udpIR = subkey(3), udpRI = subkey(4)
        tcpSend = isInitiator ? tcpIR : tcpRI
        tcpReceive = isInitiator ? tcpRI : tcpIR
        udpSend = isInitiator ? udpIR : udpRI
        udpReceive = isInitiator ? udpRI : udpIR
    }

    private init(tcpSend: AEADKey, tcpReceive: AEADKey, udpSend: AEADKey, udpReceive: AEADKey) {
        self.tcpSend = tcpSend
        self.tcpReceive = tcpReceive
        self.udpSend = udpSend
        self.udpReceive = udpReceive
    }

    /// The same keys, the UDP pair under `cipher` (both ends must choose the same).
    public func withUDPCipher(_ cipher: AEADCipher) -> SessionKeys {
        SessionKeys(tcpSend: tcpSend, tcpReceive: tcpReceive, udpSend: udpSend.using(cipher), udpReceive: udpReceive.using(cipher))
    }
}
