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
    /// The interface's name inside the namespace (`ethwe` for attach, `CNI_IFNAME` for CNI).
    public var interface: String
    /// The address inside the container's default route goes through (the bridge's own
    /// overlay address, as CNI containers get it); nil for no default route.
    public var gateway: UInt32?
    /// The container end stays in the host's namespace, named `interface`, for the runtime to
    /// move and configure (Docker's libnetwork does); `netns` is then only informative.
    public var handoff: Bool

    public init(netns: String, hostLink: String, mac: MAC, addresses: [Allocation],
                interface: String = HostBridge.containerInterface, gateway: UInt32? = nil, handoff: Bool = false) {
        self.netns = netns
        self.hostLink = hostLink
        self.mac = mac
        self.addresses = addresses
        self.interface = interface
        self.gateway = gateway
        self.handoff = handoff
    }
}
