import CSodium

/// An AEAD key used with a 64-bit counter nonce: ChaCha20-Poly1305 (IETF), or AES-256-GCM
/// where both ends have the CPU instructions for it (`using(_:)`; the data path's choice: a
/// fraction of ChaCha20's cost per byte with AES-NI). Both have 32-byte keys, 12-byte nonces
/// and 16-byte tags. A key is used for one direction of one session with one cipher only, so a
/// counter never repeats under the same key.
/// How many messages one key seals before the connection that made it is renewed (a fresh
/// CPace exchange, so fresh keys): 2^32, the invocation bound NIST SP 800-38D sets for GCM and
/// far inside ChaCha20-Poly1305's (its 64-bit counter nonces never repeat before 2^64). At a
/// sleeve's full speed (~120 000 datagrams a second) a key lasts about ten hours.
public let aeadRotationLimit: UInt64 = 1 << 32

public struct AEADKey: Sendable, Equatable {
    let bytes: [UInt8]
    public let cipher: AEADCipher
    /// AES-256-GCM's expanded key, computed once (nil for ChaCha20-Poly1305).
    private let aes: AESGCMState?

    /// Bytes a sealed message adds to its plaintext (the same for both ciphers).
    public static let overhead = Int(crypto_aead_chacha20poly1305_ietf_ABYTES)

    init(bytes: [UInt8]) {
        self.bytes = bytes
        cipher = .chacha20Poly1305
        aes = nil
    }

    private init(bytes: [UInt8], aes: AESGCMState) {
        self.bytes = bytes
        cipher = .aes256GCM
        self.aes = aes
    }

    /// Whether this machine can use AES-256-GCM (AES-NI and PCLMUL).
    public static var aes256GCMAvailable: Bool {
        Sodium.initialised && crypto_aead_aes256gcm_is_available() == 1
    }

    /// The same key under `cipher` (ChaCha20-Poly1305 when AES-256-GCM is not available here).
    public func using(_ cipher: AEADCipher) -> AEADKey {
        guard cipher == .aes256GCM, Self.aes256GCMAvailable else { return AEADKey(bytes: bytes) }
        return AEADKey(bytes: bytes, aes: AESGCMState(key: bytes))
    }

    public static func == (a: AEADKey, b: AEADKey) -> Bool { a.bytes == b.bytes && a.cipher == b.cipher }


    /// The 12-byte nonce: four zero bytes, then the counter big-endian (three packed UInt32s).
    static func nonce(_ counter: UInt64) -> (UInt32, UInt32, UInt32) {
        (0, UInt32(truncatingIfNeeded: counter >> 32).bigEndian, UInt32(truncatingIfNeeded: counter).bigEndian)
    }

    /// Seals `plaintext` into `output` (which must hold `plaintext.count + overhead` bytes) and
    /// returns the number of bytes written.
    public func seal(
        _ plaintext: UnsafeRawBufferPointer, counter: UInt64, into output: UnsafeMutableRawBufferPointer
    ) throws(CryptoError) -> Int {
        guard output.count >= plaintext.count + Self.overhead,
              let out = output.baseAddress?.assumingMemoryBound(to: UInt8.self) else { throw CryptoError(.bufferTooSmall) }
        var nonce = Self.nonce(counter)
        var written: UInt64 = 0
        withUnsafeBytes(of: &nonce) { n in
            bytes.withUnsafeBufferPointer { k in
                _ = crypto_aead_chacha20poly1305_ietf_encrypt(
                    out, &written,
                    plaintext.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(plaintext.count),
                    nil, 0, nil,
                    n.baseAddress!.assumingMemoryBound(to: UInt8.self), k.baseAddress!)
            }
        }
        return Int(written)
    }

    /// Opens `sealed` into `output` (at least `sealed.count - overhead` bytes) and returns the
    /// plaintext length; throws when the message was not sealed with this key and counter.
    public func open(
        _ sealed: UnsafeRawBufferPointer, counter: UInt64, into output: UnsafeMutableRawBufferPointer
    ) throws(CryptoError) -> Int {
        guard sealed.count >= Self.overhead, let input = sealed.baseAddress?.assumingMemoryBound(to: UInt8.self)
        else { throw CryptoError.messageTooShort }
        guard output.count >= sealed.count - Self.overhead else { throw CryptoError(.bufferTooSmall) }
        // An empty plaintext still needs a valid pointer to write nothing to.
        var spare: UInt8 = 0
        var nonce = Self.nonce(counter)
        var written: UInt64 = 0
        let rc = withUnsafeBytes(of: &nonce) { n in
            bytes.withUnsafeBufferPointer { k in
                crypto_aead_chacha20poly1305_ietf_decrypt(
                    output.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? withUnsafeMutablePointer(to: &spare) { $0 },
                    &written, nil, input, UInt64(sealed.count), nil, 0,
                    n.baseAddress!.assumingMemoryBound(to: UInt8.self), k.baseAddress!)
            }
        }
        guard rc == 0 else { throw CryptoError.authenticationFailed }
        return Int(written)
    }

    /// Seals `length` bytes at `message` in place, appending the 16-byte tag (the buffer must
    /// hold `length + overhead` bytes), authenticating `additional` too. Returns the sealed
    /// length. For the data path: no copy, no allocation.
    @inline(__always)
    public func sealInPlace(_ message: UnsafeMutableRawPointer, length: Int, counter: UInt64,
                            additional: UnsafeRawBufferPointer) -> Int {
        seal(into: message, from: message, length: length, counter: counter, additional: additional)
    }

    /// Seals `length` bytes at `message` into `output` (the same place, or one that does not
    /// overlap it, with room for `length + overhead` bytes): the copy and the sealing in one
    /// pass. Returns the sealed length.
    @inline(__always)
    public func seal(into output: UnsafeMutableRawPointer, from message: UnsafeRawPointer, length: Int, counter: UInt64,
                     additional: UnsafeRawBufferPointer) -> Int {
        var nonce = Self.nonce(counter)
        var written: UInt64 = 0
        let c = output.assumingMemoryBound(to: UInt8.self), m = message.assumingMemoryBound(to: UInt8.self)
        if let aes {
            withUnsafeBytes(of: &nonce) { n in
                _ = crypto_aead_aes256gcm_encrypt_afternm(
                    c, &written, m, UInt64(length),
                    additional.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(additional.count), nil,
                    n.baseAddress!.assumingMemoryBound(to: UInt8.self), aes.state)
            }
            return Int(written)
        }
        withUnsafeBytes(of: &nonce) { n in
            bytes.withUnsafeBufferPointer { k in
                _ = crypto_aead_chacha20poly1305_ietf_encrypt(
                    c, &written, m, UInt64(length),
                    additional.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(additional.count), nil,
                    n.baseAddress!.assumingMemoryBound(to: UInt8.self), k.baseAddress!)
            }
        }
        return Int(written)
    }

    /// Opens `length` sealed bytes at `message` in place; returns the plaintext length, or nil
    /// when the bytes, the counter or `additional` are not what was sealed.
    @inline(__always)
    public func openInPlace(_ message: UnsafeMutableRawPointer, length: Int, counter: UInt64,
                            additional: UnsafeRawBufferPointer) -> Int? {
        guard length >= Self.overhead else { return nil }
        var nonce = Self.nonce(counter)
        var written: UInt64 = 0
        let m = message.assumingMemoryBound(to: UInt8.self)
        if let aes {
            let rc = withUnsafeBytes(of: &nonce) { n in
                crypto_aead_aes256gcm_decrypt_afternm(
                    m, &written, nil, m, UInt64(length),
                    additional.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(additional.count),
                    n.baseAddress!.assumingMemoryBound(to: UInt8.self), aes.state)
            }
            return rc == 0 ? Int(written) : nil
        }
        let rc = withUnsafeBytes(of: &nonce) { n in
            bytes.withUnsafeBufferPointer { k in
                crypto_aead_chacha20poly1305_ietf_decrypt(
                    m, &written, nil, m, UInt64(length),
                    additional.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(additional.count),
                    n.baseAddress!.assumingMemoryBound(to: UInt8.self), k.baseAddress!)
            }
        }
        return rc == 0 ? Int(written) : nil
    }

    /// Seals an array; convenient where a copy does not matter (handshake, tests).
    public func seal(_ plaintext: [UInt8], counter: UInt64) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: plaintext.count + Self.overhead)
        let n = plaintext.withUnsafeBytes { p in
            // The buffer is sized for the sealed text: sealing cannot refuse it.
            out.withUnsafeMutableBytes { o in (try? seal(p, counter: counter, into: o)) ?? 0 }
        }
        return Array(out.prefix(n))
    }

    /// Opens an array sealed by `seal(_:counter:)`.
    public func open(_ sealed: [UInt8], counter: UInt64) throws(CryptoError) -> [UInt8] {
        guard sealed.count >= Self.overhead else { throw CryptoError.messageTooShort }
        var out = [UInt8](repeating: 0, count: max(1, sealed.count - Self.overhead))
        let result: Result<Int, CryptoError> = sealed.withUnsafeBytes { s in
            out.withUnsafeMutableBytes { o in Result { () throws(CryptoError) in try open(s, counter: counter, into: o) } }
        }
        return Array(out.prefix(try result.get()))
    }
}

public enum AEADCipher: Sendable, Equatable {
    case chacha20Poly1305
    case aes256GCM
}

/// libsodium's precomputed AES-256-GCM state (the expanded key and GHASH powers), 16-byte
/// aligned as it requires. Written once at creation and only read afterwards (by one thread at
/// a time or concurrently, which libsodium allows for `_afternm`), which makes it Sendable.
final class AESGCMState: @unchecked Sendable {
    let state: UnsafeMutablePointer<crypto_aead_aes256gcm_state>

    init(key: [UInt8]) {
        state = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<crypto_aead_aes256gcm_state>.size, alignment: 16)
            .bindMemory(to: crypto_aead_aes256gcm_state.self, capacity: 1)
        _ = crypto_aead_aes256gcm_beforenm(state, key)
    }

    deinit {
        sodium_memzero(state, MemoryLayout<crypto_aead_aes256gcm_state>.size)
        UnsafeMutableRawPointer(state).deallocate()
    }
}
