import CSodium

/// One side of a CPace password-authenticated key exchange over ristretto255 (as in the CFRG
/// draft, with libsodium's group operations): both sides derive the same generator from the
/// stretched password and the channel (`channel`: the protocol and its negotiated version),
/// each sends `share = y·G` for a fresh random scalar `y`, and both compute `K = y·Y'`. Only a
/// side that used the same password gets the same `K`: an eavesdropper learns nothing to test
/// guesses against offline, and an active attacker gets one guess per connection (the one it
/// built its share for). Fresh per connection, so every session has its own secret.
public struct PasswordKeyExchange: Sendable {
    /// The 32-byte ristretto255 point sent to the remote peer.
    public let share: [UInt8]
    let scalar: [UInt8]
    let generator: [UInt8]

    static let generatorDomain = Array("CPaceRistretto255".utf8)
    static let keyDomain = Array("CPaceRistretto255_ISK".utf8)

    /// Picks a fresh scalar; `channel` binds the exchange to the protocol and the negotiated
    /// version (both sides must give the same bytes).
    public init(password: PasswordKey, channel: [UInt8]) throws(CryptoError) {
        try Sodium.ready()
        let seed = Self.hash(Self.lengthPrefixed(Self.generatorDomain) + Self.lengthPrefixed(password.bytes)
                             + Self.lengthPrefixed(channel))
        var g = [UInt8](repeating: 0, count: Int(crypto_core_ristretto255_BYTES))
        _ = crypto_core_ristretto255_from_hash(&g, seed)
        var y = [UInt8](repeating: 0, count: Int(crypto_core_ristretto255_SCALARBYTES))
        crypto_core_ristretto255_scalar_random(&y)
        var share = [UInt8](repeating: 0, count: Int(crypto_core_ristretto255_BYTES))
        guard crypto_scalarmult_ristretto255(&share, y, g) == 0 else { throw CryptoError(.badPublicKey) }
        self.share = share
        scalar = y
        generator = g
    }

    /// The intermediate session key with the remote's share: `SHA-512(K, both shares in the
    /// initiator's order)`, 64 bytes. Throws for a share that is no valid point or gives the
    /// identity (an attacker's degenerate share).
    func sessionKey(remoteShare: [UInt8], isInitiator: Bool) throws(CryptoError) -> [UInt8] {
        guard remoteShare.count == Int(crypto_core_ristretto255_BYTES),
              crypto_core_ristretto255_is_valid_point(remoteShare) == 1 else { throw CryptoError(.badPublicKey) }
        var k = [UInt8](repeating: 0, count: Int(crypto_core_ristretto255_BYTES))
        guard crypto_scalarmult_ristretto255(&k, scalar, remoteShare) == 0 else { throw CryptoError(.badPublicKey) }
        let (ya, yb) = isInitiator ? (share, remoteShare) : (remoteShare, share)
        return Self.hash(Self.lengthPrefixed(Self.keyDomain) + Self.lengthPrefixed(k) + Self.lengthPrefixed(ya)
                         + Self.lengthPrefixed(yb))
    }

    static func hash(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(crypto_hash_sha512_BYTES))
        _ = crypto_hash_sha512(&out, bytes, UInt64(bytes.count))
        return out
    }

    static func lengthPrefixed(_ bytes: [UInt8]) -> [UInt8] { [UInt8(bytes.count >> 8), UInt8(bytes.count & 0xFF)] + bytes }
}

/// The keys of one connection: one per direction for the TCP stream and one per direction for
/// the UDP data path, all derived from the CPace session key. Both ends derive the same four
/// keys; each uses the `outbound` pair for what it sends.
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
    public init(exchange: PasswordKeyExchange, remoteShare: [UInt8], isInitiator: Bool) throws(CryptoError) {
        try Sodium.ready()
        let isk = try exchange.sessionKey(remoteShare: remoteShare, isInitiator: isInitiator)
        // crypto_kdf wants a 32-byte master key: BLAKE2b-256 of the 64-byte session key.
        var master = [UInt8](repeating: 0, count: Int(crypto_kdf_KEYBYTES))
        _ = crypto_generichash(&master, master.count, isk, UInt64(isk.count), nil, 0)
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
