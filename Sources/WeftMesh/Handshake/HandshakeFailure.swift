/// Why a handshake ended. The description is the reason in the one log line a refused
/// connection gets; `label` is its name in the `weft_handshake_failures_total` metric.
public enum HandshakeFailure: Error, Equatable, Sendable, CustomStringConvertible {
    case badMagic
    case versionMismatch(ours: ClosedRange<UInt8>, theirs: ClosedRange<UInt8>)
    case malformed(String)
    case timeout
    /// This router has a password and the remote has none.
    case remoteUnencrypted
    /// The remote has a password and this router has none.
    case remoteEncrypted
    /// The remote's sealed features did not open: it holds another password.
    case authenticationFailed
    case connectToSelf
    case duplicate
    case connectionLimit
    case rateLimited
    case closed

    public var description: String {
        switch self {
        case .badMagic: "not a Weft peer (bad magic)"
        case let .versionMismatch(ours, theirs):
            "no common protocol version (ours \(ours.lowerBound)..\(ours.upperBound), theirs \(theirs.lowerBound)..\(theirs.upperBound))"
        case let .malformed(what): "malformed handshake: \(what)"
        case .timeout: "handshake timed out"
        case .remoteUnencrypted: "the remote has no password but this router requires one"
        case .remoteEncrypted: "the remote requires a password but this router has none"
        case .authenticationFailed: "authentication failed (wrong password)"
        case .connectToSelf: "connection to self"
        case .duplicate: "duplicate connection"
        case .connectionLimit: "connection limit reached"
        case .rateLimited: "too many incoming connections"
        case .closed: "closed during the handshake"
        }
    }

    /// The metric label.
    public var label: String {
        switch self {
        case .badMagic: "bad_magic"
        case .versionMismatch: "version"
        case .malformed: "malformed"
        case .timeout: "timeout"
        case .remoteUnencrypted, .remoteEncrypted: "encryption_mismatch"
        case .authenticationFailed: "auth"
        case .connectToSelf: "self"
        case .duplicate: "duplicate"
        case .connectionLimit: "limit"
        case .rateLimited: "rate_limited"
        case .closed: "closed"
        }
    }

    /// Failures that retrying cannot fix.
    /// None is: a dial that reached this router itself may have been reflected to it (a
    /// forwarding box, a spoofed answer), and must not stop that target for good; it is retried
    /// with the backoff of any failure (growing to 2 minutes).
    public var isPermanent: Bool { false }
}
