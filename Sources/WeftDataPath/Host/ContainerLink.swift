public import WeftTypes

/// A container's plug into the bridge: its namespace, the host end of its veth pair (a bridge
/// port), its MAC and addresses. The router decides all of these; the data path makes the links.
public struct ContainerLink: Sendable, Equatable {
    /// The namespace as given: a name under /run/netns, a path, or a PID.
    public var netns: String
    /// The host end of the veth pair (at most 15 bytes).
    public var hostLink: String
    public var mac: MAC
    public var addresses: [Allocation]

    public init(netns: String, hostLink: String, mac: MAC, addresses: [Allocation]) {
        self.netns = netns
        self.hostLink = hostLink
        self.mac = mac
        self.addresses = addresses
    }
}
