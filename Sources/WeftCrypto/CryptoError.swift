/// An error from the crypto layer; its description says what failed in words a user can act on.
public struct CryptoError: Error, Hashable, CustomStringConvertible {
    enum Code: Hashable {
        case libraryUnavailable
        case passwordStretchFailed
        case badPublicKey
        case authenticationFailed
        case messageTooShort
        case bufferTooSmall
    }

    let code: Code

    init(_ code: Code) { self.code = code }

    /// A sealed message failed to authenticate: wrong key, altered or replayed bytes.
    public static let authenticationFailed = CryptoError(.authenticationFailed)
    /// A sealed message is shorter than its authentication tag.
    public static let messageTooShort = CryptoError(.messageTooShort)

    public var description: String {
        switch code {
        case .libraryUnavailable: "libsodium could not be initialised"
        case .passwordStretchFailed: "stretching the password failed (not enough memory for crypto_pwhash?)"
        case .badPublicKey: "the remote public key is invalid"
        case .authenticationFailed: "message authentication failed"
        case .messageTooShort: "sealed message is shorter than its tag"
        case .bufferTooSmall: "output buffer too small"
        }
    }
}
