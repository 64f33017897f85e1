/// An IPAM request that could not be met, described for the user.
public struct IPAMError: Error, Equatable, CustomStringConvertible {
    /// How the API should answer it.
    public enum Kind: Equatable, Sendable {
        /// The request itself is wrong (bad address, subnet outside the range).
        case invalid
        /// The address or peer is taken, owned elsewhere, or still alive.
        case conflict
        /// Not possible yet or any more: no agreement, no free space.
        case unavailable
        /// No such container or peer.
        case notFound
    }

    public let kind: Kind
    public let description: String

    public init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }
}
