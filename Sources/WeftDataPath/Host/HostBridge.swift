import FoundationEssentials
import Glibc
public import Logging
import Metrics
import Synchronization
import WeftNetlink
public import WeftTypes

/// The host's plumbing for both data paths, over rtnetlink: the bridge `weft`, the veth pair
/// `vethwe-bridge`/`vethwe-pcap` the sleeve captures on, the fast path's VXLAN device and its
/// forwarding entries, the containers' veth pairs, and the host's own overlay addresses.
///
/// A clean-up step that fails (a link already gone, an entry the kernel refused) is logged and
/// counted in `weft_datapath_failures_total{operation}`, never silently dropped: the next
/// step still runs, so one stale object does not leave the rest behind.
public final class HostBridge: Sendable {
    public static let bridge = "weft"
    public static let bridgePort = "vethwe-bridge"
    public static let capturePort = "vethwe-pcap"
    public static let containerInterface = "ethwe"
    /// The bridge and its host-side ports take any frame, so one larger than the overlay MTU
    /// (a container or the host with a larger MTU) still reaches the sleeve, which answers it
    /// with ICMP "fragmentation needed" instead of the veth dropping it silently (as Weave does).
    public static let bridgeMTU = 65535

    public struct Configuration: Sendable {
        /// The overlay MTU: containers' `ethwe` and the VXLAN device get it.
        public var mtu: Int
        /// The bridge's MAC: fixed, so containers' neighbour entries for the service address
        /// stay right when ports come and go.
        public var bridgeMAC: MAC
        /// An address on the bridge that every local container reaches directly, through a /32
        /// route and a permanent neighbour entry on its `ethwe` (the router's DNS). Answers go
        /// back through `serviceTable`, which only packets from this address use, so the host is
        /// not on the overlay until `expose`. Nil: none (and one of an earlier run is removed).
        public var serviceAddress: UInt32?
        public var serviceTable: UInt8 = 53
        public var serviceRulePriority: UInt32 = 100

        public init(mtu: Int, bridgeMAC: MAC, serviceAddress: UInt32?) {
            self.mtu = mtu
            self.bridgeMAC = bridgeMAC
            self.serviceAddress = serviceAddress
        }
    }

    public let configuration: Configuration
    private let links: Mutex<RouteSocket>
    /// The fast path's forwarding entries as programmed.
    private let tunnel = Mutex(TunnelEntries())
    private let logger: Logger

    public init(configuration: Configuration, logger: Logger) throws(DataPathError) {
        self.configuration = configuration
        self.logger = logger
        do { links = Mutex(try RouteSocket()) } catch { throw DataPathError("cannot open rtnetlink: \(error)") }
    }

    // MARK: the bridge

    /// Creates (or finds) the bridge and the capture pair and brings them up; idempotent.
    public func setUp() throws(DataPathError) {
        let c = configuration
        do {
            try links.withLock { h throws(NetlinkError) in
                try h.createBridge(Self.bridge, mtu: Self.bridgeMTU)
                try h.createVeth(Self.bridgePort, peer: Self.capturePort, mtu: Self.bridgeMTU)
                try h.setLink(Self.bridgePort, up: true, mtu: Self.bridgeMTU, master: Self.bridge)
                try h.setLink(Self.capturePort, up: true, mtu: Self.bridgeMTU)
                try h.setLink(Self.bridge, up: true, mac: c.bridgeMAC.bytes)
                if let service = c.serviceAddress {
                    try h.addAddress(service, prefix: 32, to: Self.bridge)
                    try h.addSourceRule(service, table: c.serviceTable, priority: c.serviceRulePriority)
                }
                // Frames reach pcap as the containers' stacks made them: TCP super-frames up to
                // `largestSuperFrame` whole, checksums unfinished; the sleeve's receiver has the
                // far kernel finish them (Sleeve.captureOffload, OffloadHeader).
                try h.setOffloads(Self.bridgePort, Sleeve.captureOffload)
                try h.setGSOMaxSize(Self.bridgePort, Sleeve.largestSuperFrame)
            }
        } catch {
            throw DataPathError("cannot set up the bridge \(Self.bridge): \(error)")
        }
        if c.serviceAddress == nil { removeServiceAddress() }
        // As Weave does: no IPv6 on the bridge and its pair, so the host does not chatter
        // (router solicitations, MLD) into the overlay.
        for link in [Self.bridge, Self.bridgePort, Self.capturePort] {
            let path = "/proc/sys/net/ipv6/conf/\(link)/disable_ipv6"
            do { try Data("1\n".utf8).write(to: URL(fileURLWithPath: path)) } catch {
                // A kernel without IPv6 has no such file, and then nothing chatters either.
                logger.debug("cannot disable IPv6 on \(link): \(error)")
            }
        }
    }

    /// Removes the bridge, the capture pair, the VXLAN device and the given containers' links
    /// (reset).
    public func tearDown(containerLinks: [String]) {
        for link in containerLinks + [Self.bridgePort, Fastpath.device, Self.bridge] {
            attempt("delete link") { h throws(NetlinkError) in _ = try h.deleteLink(link) }
        }
        removeServiceAddress()
    }

    /// Takes the service address and its rule away (relaunched without it, or reset).
    private func removeServiceAddress() {
        let c = configuration
        // The configured one; with none, the one every Weft router uses (an earlier run's).
        let address = c.serviceAddress ?? Self.defaultServiceAddress
        attempt("remove service address") { h throws(NetlinkError) in _ = try h.removeAddress(address, prefix: 32, from: Self.bridge) }
        attempt("remove service rule") { h throws(NetlinkError) in
            _ = try h.removeSourceRule(address, table: c.serviceTable, priority: c.serviceRulePriority)
        }
    }

    /// The address an earlier run may have put on the bridge for its DNS (169.254.53.53).
    public static let defaultServiceAddress: UInt32 = 0xA9FE_3535

    // MARK: containers

    /// Throws `.noSuchNamespace` unless the namespace can be opened.
    public func checkNamespace(_ spec: String) throws(DataPathError) {
        do { _ = try NetworkNamespace(spec) } catch { throw DataPathError(.noSuchNamespace, "\(error)") }
    }

    /// Plugs the namespace into the bridge as the link's interface (`ethwe`) with its MAC and
    /// addresses, a route and neighbour entry for the service address, and the default route
    /// when the link has a gateway. Undoes what it made when a step fails.
    public func plug(_ link: ContainerLink) throws(DataPathError) {
        if link.handoff { return try plugForHandoff(link) }
        let namespace: NetworkNamespace
        do { namespace = try NetworkNamespace(link.netns) } catch { throw DataPathError(.noSuchNamespace, "\(error)") }
        let c = configuration
        do {
            try makePair(link, peerNamespace: namespace.descriptor)
            let inside = try namespace.socket()
            for a in link.addresses { try inside.addAddress(a.address, prefix: a.subnet.prefix, to: link.interface) }
            try inside.setLink(link.interface, up: true)
            try inside.setLink("lo", up: true)
            if let gateway = link.gateway { try inside.addDefaultRoute(via: gateway, link: link.interface) }
            if let service = c.serviceAddress {
                try inside.addRoute(service, prefix: 32, link: link.interface)
                try inside.addNeighbour(service, mac: c.bridgeMAC.bytes, link: link.interface)
                try addServiceReturn(link)
            }
        } catch {
            unplug(link)
            throw DataPathError("cannot plug \(link.netns) in: \(error)")
        }
    }

    /// A veth pair on the bridge whose container end stays here, with the link's MAC and the
    /// overlay MTU, for the runtime to move into the container and address.
    private func plugForHandoff(_ link: ContainerLink) throws(DataPathError) {
        let c = configuration
        do {
            try makePair(link, peerNamespace: nil)
            // The runtime routes the service address on-link in the container (it has no
            // neighbour entry there: the container asks with ARP, and this bridge answers).
            if c.serviceAddress != nil { try addServiceReturn(link) }
        } catch {
            unplug(link)
            throw DataPathError("cannot make the interface \(link.interface): \(error)")
        }
    }

    /// The link's veth pair: the host end up on the bridge, its MAC pinned there, the container
    /// end with the overlay MTU made in `peerNamespace` (nil: here, for the runtime to move).
    private func makePair(_ link: ContainerLink, peerNamespace: Int32?) throws(NetlinkError) {
        let mtu = configuration.mtu
        try links.withLock { h throws(NetlinkError) in
            try h.createVeth(link.hostLink, peer: link.interface, mtu: Self.bridgeMTU, peerMTU: mtu,
                             peerMAC: link.mac.bytes, peerNamespace: peerNamespace)
            try h.setLink(link.hostLink, up: true, master: Self.bridge)
            // Pinned, so the bridge never floods a frame for a local container (one that came
            // by the fast path would reach the sleeve and go round again).
            try h.addBridgeEntry(link.mac.bytes, port: link.hostLink)
        }
    }

    /// The way back from the service address to the container's addresses (the service table).
    private func addServiceReturn(_ link: ContainerLink) throws(NetlinkError) {
        let c = configuration
        try links.withLock { h throws(NetlinkError) in
            for a in link.addresses {
                try h.addRoute(a.address, prefix: 32, link: Self.bridge, table: c.serviceTable)
                try h.addNeighbour(a.address, mac: link.mac.bytes, link: Self.bridge)
            }
        }
    }

    /// Removes a container's link (its namespace end goes with it) and the host's routes to it.
    public func unplug(_ link: ContainerLink) {
        attempt("delete link") { h throws(NetlinkError) in _ = try h.deleteLink(link.hostLink) }
        guard configuration.serviceAddress != nil else { return }
        let table = configuration.serviceTable
        for a in link.addresses {
            attempt("remove route") { h throws(NetlinkError) in _ = try h.removeRoute(a.address, prefix: 32, link: Self.bridge, table: table) }
            attempt("remove neighbour") { h throws(NetlinkError) in _ = try h.removeNeighbour(a.address, link: Self.bridge) }
        }
    }

    /// True while the link's host end exists; a netlink failure counts as plugged (nothing is
    /// freed on a doubt).
    public func isPlugged(_ link: ContainerLink) -> Bool {
        (try? links.withLock { h throws(NetlinkError) in try h.linkIndex(named: link.hostLink) != nil }) ?? true
    }

    // MARK: the host on the overlay

    /// Gives the bridge (so the host) addresses on the overlay.
    public func addHostAddresses(_ addresses: [Allocation]) throws(DataPathError) {
        do {
            try links.withLock { h throws(NetlinkError) in
                for a in addresses { try h.addAddress(a.address, prefix: a.subnet.prefix, to: Self.bridge) }
            }
        } catch { throw DataPathError("cannot expose: \(error)") }
    }

    /// Takes the host's overlay addresses back.
    public func removeHostAddresses(_ addresses: [Allocation]) {
        for a in addresses {
            attempt("remove host address") { h throws(NetlinkError) in _ = try h.removeAddress(a.address, prefix: a.subnet.prefix, from: Self.bridge) }
        }
    }

    // MARK: the fast path's device

    /// Creates the VXLAN device afresh on the bridge (so no entry of an earlier run survives),
    /// MTU the overlay's, bridge-port learning off (its table entries are all programmed).
    public func setUpVXLAN() throws(DataPathError) {
        let mtu = configuration.mtu
        do {
            try links.withLock { h throws(NetlinkError) in
                _ = try h.deleteLink(Fastpath.device)
                try h.createVXLAN(Fastpath.device, vni: Fastpath.vni, port: Fastpath.port, mtu: mtu)
                try h.setLink(Fastpath.device, up: true, master: Self.bridge)
                try h.setBridgePort(Fastpath.device, learning: false)
            }
        } catch {
            throw DataPathError("cannot set up the VXLAN device \(Fastpath.device): \(error)")
        }
        tunnel.withLock { $0 = TunnelEntries() }
    }

    /// Removes the VXLAN device (fast path off).
    public func removeVXLAN() {
        attempt("delete link") { h throws(NetlinkError) in _ = try h.deleteLink(Fastpath.device) }
    }

    /// Makes the programmed entries `desired`, changing only what differs. An entry the kernel
    /// refuses is logged, counted and tried again at the next call.
    public func program(_ desired: TunnelEntries) {
        tunnel.withLock { installed in
            guard installed != desired else { return }
            let device = Fastpath.device
            for mac in installed.pinned.subtracting(desired.pinned) {
                attempt("remove bridge entry") { h throws(NetlinkError) in _ = try h.removeBridgeEntry(mac.bytes, port: device) }
            }
            for (mac, address) in installed.remote where desired.remote[mac] != address {
                attempt("remove VXLAN entry") { h throws(NetlinkError) in
                    _ = try h.removeTunnelEntry(mac.bytes, destination: address, device: device)
                }
            }
            for (mac, address) in desired.remote where installed.remote[mac] != address {
                let added = attempt("add VXLAN entry") { h throws(NetlinkError) in
                    try h.addTunnelEntry(mac.bytes, destination: address, device: device)
                }
                installed.remote[mac] = added ? address : nil
            }
            for mac in desired.pinned.subtracting(installed.pinned) {
                if attempt("add bridge entry", { h throws(NetlinkError) in try h.addBridgeEntry(mac.bytes, port: device) }) {
                    installed.pinned.insert(mac)
                }
            }
            installed.remote = installed.remote.filter { desired.remote[$0.key] == $0.value }
            installed.pinned.formIntersection(desired.pinned)
        }
    }

    /// The entries as programmed now.
    public var programmed: TunnelEntries { tunnel.withLock { $0 } }

    /// Runs one rtnetlink step whose failure must not stop the caller: logs it and counts it.
    /// Returns whether it succeeded.
    @discardableResult
    private func attempt(_ operation: String, _ step: (RouteSocket) throws(NetlinkError) -> Void) -> Bool {
        do {
            try links.withLock { h throws(NetlinkError) in try step(h) }
            return true
        } catch {
            logger.warning("data path: \(operation) failed: \(error)")
            Counter(label: "weft_datapath_failures_total", dimensions: [("operation", operation)]).increment()
            return false
        }
    }
}
