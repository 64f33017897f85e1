/// Why a message from the network could not be decoded. Decoders throw this and never trap.
public enum WireError: Error, Equatable, CustomStringConvertible {
    /// The message ended before a field did.
    case truncated
    /// A length or count exceeds what the protocol allows.
    case tooLong(field: String, length: Int, limit: Int)
    /// A field holds a value the protocol does not define.
    case invalid(String)

    public var description: String {
        switch self {
        case .truncated: "message truncated"
        case let .tooLong(field, length, limit): "\(field) of \(length) exceeds the limit of \(limit)"
        case let .invalid(what): "invalid \(what)"
        }
    }
}
