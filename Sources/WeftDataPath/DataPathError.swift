/// A data-path operation that failed: what was attempted and why, in one line a user or an
/// operator can act on. `kind` lets the router pick an answer (a namespace that does not exist
/// is the caller's mistake; a kernel refusal is not).
public struct DataPathError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// The network namespace to plug in does not exist or cannot be opened.
        case noSuchNamespace
        /// The kernel refused (rtnetlink, pcap, a socket).
        case kernel
    }

    public let kind: Kind
    public let description: String

    public init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }

    /// A kernel refusal.
    init(_ description: String) { self.init(.kernel, description) }
}
