import CSodium

/// The one place libsodium is initialised; every other type in this module calls
/// `Sodium.ready()` before it touches the library.
enum Sodium {
    /// `sodium_init` is thread-safe and idempotent; a negative result means the library
    /// could not seed its random generator, which no caller can recover from.
    static let initialised: Bool = sodium_init() >= 0

    static func ready() throws(CryptoError) {
        guard initialised else { throw CryptoError(.libraryUnavailable) }
    }
}

/// Fills a fresh array with bytes from libsodium's CSPRNG.
public func secureRandomBytes(_ count: Int) -> [UInt8] {
    _ = Sodium.initialised
    var bytes = [UInt8](repeating: 0, count: count)
    bytes.withUnsafeMutableBytes { buf in
        if let base = buf.baseAddress { randombytes_buf(base, buf.count) }
    }
    return bytes
}

/// A random non-zero 64-bit value from the CSPRNG (peer UIDs, connection IDs).
public func secureRandomUInt64() -> UInt64 {
    var value: UInt64 = 0
    repeat {
        value = secureRandomBytes(8).reduce(0) { $0 << 8 | UInt64($1) }
    } while value == 0
    return value
}
