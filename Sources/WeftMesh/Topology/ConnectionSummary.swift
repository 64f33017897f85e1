public import WeftTypes

/// One connection as its owner reports it in topology gossip.
public struct ConnectionSummary: Hashable, Sendable {
    /// The peer at the other end.
    public var remote: PeerName
    /// The remote's TCP address as the owner sees it (`ip:port`).
    public var address: String
    /// True when the owner dialled the connection.
    public var outbound: Bool
    /// True once the connection carries traffic (the handshake completed).
    public var established: Bool

    public init(remote: PeerName, address: String, outbound: Bool, established: Bool) {
        self.remote = remote
        self.address = address
        self.outbound = outbound
        self.established = established
    }
}
