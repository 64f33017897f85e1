import CSodium

/// The mesh password stretched once at start with Argon2id (crypto_pwhash), so that a captured
/// handshake cannot be tested against password guesses cheaply. Every peer derives the same key
/// from the same password (the salt is a fixed protocol constant), and the key only ever enters
/// the keyed hash that binds a session's keys to both public keys.
public struct PasswordKey: Sendable {
    let bytes: [UInt8]

    /// The protocol salt: fixed so that all peers agree; it separates Weft's hash from any other
    /// use of the same password.
    static let salt: [UInt8] = Array("weft-mesh-pw-v1!".utf8)  // crypto_pwhash_SALTBYTES == 16

    /// Stretches `password`; costs about a tenth of a second and 64 MiB once per start.
    public init(password: String) throws(CryptoError) {
        try Sodium.ready()
        precondition(Self.salt.count == Int(crypto_pwhash_SALTBYTES))
        var key = [UInt8](repeating: 0, count: 32)
        let pw = password.utf8CString  // NUL-terminated, so never empty; the NUL is not hashed
        let rc = key.withUnsafeMutableBufferPointer { out in
            pw.withUnsafeBufferPointer { pc in
                    crypto_pwhash(
                        out.baseAddress!, UInt64(out.count),
                        pc.baseAddress!, UInt64(pc.count - 1),
                        Self.salt,
                        UInt64(crypto_pwhash_OPSLIMIT_INTERACTIVE),
                        Int(crypto_pwhash_MEMLIMIT_INTERACTIVE),
                        crypto_pwhash_ALG_ARGON2ID13)
            }
        }
        guard rc == 0 else { throw CryptoError(.passwordStretchFailed) }
        bytes = key
    }
}
