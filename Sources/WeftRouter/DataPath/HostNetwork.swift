import Foundation
import NIOHTTP1
import Synchronization
import WeftIPAM
import WeftMesh
import WeftNetlink
import WeftSleeve
import WeftTypes

/// The host's side of the overlay, over rtnetlink: the bridge `weft` with the veth pair
/// `vethwe-bridge`/`vethwe-pcap` that the sleeve captures on, and the containers plugged into
/// it (`attach`), kept in `containers.json`; plus the host's own address on the overlay
/// (`expose`).
final class HostNetwork: Sendable {
    static let bridge = "weft"
    static let bridgePort = "vethwe-bridge"
    static let capturePort = "vethwe-pcap"
    static let containerInterface = "ethwe"
    /// The IPAM ID of the host's own overlay addresses.
    static let exposeID = "weft:expose"
    static let stateFile = "containers.json"
    /// The bridge and its host-side ports take any frame, so one larger than the overlay MTU
    /// (a container or the host with a larger MTU) still reaches the sleeve, which answers it
    /// with ICMP "fragmentation needed" instead of the veth dropping it silently (as Weave does).
    static let bridgeMTU = 65535
    /// Where containers find the embedded DNS: 169.254.53.53 on the bridge. A link-local
    /// address outside every overlay range, the same on every host; each container reaches its
    /// own host's bridge through a /32 route and a permanent neighbour entry on `ethwe`, so no
    /// ARP for it ever crosses the overlay (where every host's bridge would answer).
    static let dnsAddress: UInt32 = 0xA9FE_3535
    /// The routing table that takes the DNS answers back to local containers; only packets
    /// from the DNS address use it, so the host is not on the overlay until `expose`.
    static let dnsTable: UInt8 = 53
    static let dnsRulePriority: UInt32 = 100

    let mtu: Int
    /// The bridge's MAC: fixed (from the peer name) so containers' neighbour entries for the
    /// DNS address stay right when ports come and go.
    let bridgeMAC: [UInt8]
    /// The DNS search domain written into containers' resolv.conf; nil when DNS is off.
    let dnsDomain: String?
    let links: Mutex<RouteSocket>
    /// The fast path's forwarding entries as programmed (see HostNetwork+Fastpath).
    let tunnel = Mutex(TunnelEntries())
    private let containers: Mutex<[String: AttachedContainer]>
    private let stateDirectory: StateDirectory
    private let ipam: IPAMService?

    init(mtu: Int, bridgeMAC: [UInt8], dnsDomain: String?, stateDirectory: StateDirectory, ipam: IPAMService?) throws {
        self.mtu = mtu
        self.bridgeMAC = bridgeMAC
        self.dnsDomain = dnsDomain
        self.stateDirectory = stateDirectory
        self.ipam = ipam
        do { links = Mutex(try RouteSocket()) } catch { throw StateError("cannot open rtnetlink: \(error)") }
        var known: [String: AttachedContainer] = [:]
        if let data = stateDirectory.read(Self.stateFile) {
            guard let list = try? JSONDecoder().decode([AttachedContainer].self, from: data) else {
                throw StateError("\(stateDirectory.url(Self.stateFile).path) is damaged; fix or delete it")
            }
            for c in list { known[c.id] = c }
        }
        containers = Mutex(known)
    }

    /// Creates (or finds) the bridge and the capture pair and brings them up; idempotent.
    func setUp() throws {
        try links.withLock { h in
            do {
                try h.createBridge(Self.bridge, mtu: Self.bridgeMTU)
                try h.createVeth(Self.bridgePort, peer: Self.capturePort, mtu: Self.bridgeMTU)
                try h.setLink(Self.bridgePort, up: true, mtu: Self.bridgeMTU, master: Self.bridge)
                try h.setLink(Self.capturePort, up: true, mtu: Self.bridgeMTU)
                try h.setLink(Self.bridge, up: true, mac: bridgeMAC)
                if dnsDomain != nil {
                    try h.addAddress(Self.dnsAddress, prefix: 32, to: Self.bridge)
                    try h.addSourceRule(Self.dnsAddress, table: Self.dnsTable, priority: Self.dnsRulePriority)
                } else {
                    // Relaunched with --no-dns: nothing of an earlier run answers for it.
                    _ = try? h.removeAddress(Self.dnsAddress, prefix: 32, from: Self.bridge)
                    _ = try? h.removeSourceRule(Self.dnsAddress, table: Self.dnsTable, priority: Self.dnsRulePriority)
                }
                // Frames reach pcap finished and MTU-sized: the port towards the capture has no
                // checksum or segmentation offload, so the kernel completes checksums and
                // segments TCP super-frames (from containers and the host, which keep their
                // offloads for the fast path) on their way to it, and only there.
                try h.disableTxChecksum(Self.bridgePort)
                // As Weave does: no IPv6 on the bridge and its pair, so the host does not chatter
                // (router solicitations, MLD) into the overlay.
                for link in [Self.bridge, Self.bridgePort, Self.capturePort] {
                    try? Data("1\n".utf8).write(to: URL(fileURLWithPath: "/proc/sys/net/ipv6/conf/\(link)/disable_ipv6"))
                }
            } catch {
                throw StateError("cannot set up the bridge \(Self.bridge): \(error)")
            }
        }
    }

    /// Removes the bridge, the capture pair and every attached container's link (reset).
    func tearDown() {
        links.withLock { h in
            for c in containers.withLock({ Array($0.values) }) {
                _ = try? h.deleteLink(c.hostLink)
                Self.removeResolvConf(of: c)
            }
            _ = try? h.deleteLink(Self.bridgePort)
            _ = try? h.deleteLink(Fastpath.device)
            _ = try? h.deleteLink(Self.bridge)
            _ = try? h.removeSourceRule(Self.dnsAddress, table: Self.dnsTable, priority: Self.dnsRulePriority)
        }
        containers.withLock { $0.removeAll() }
        stateDirectory.remove(Self.stateFile)
    }

    // MARK: containers

    /// Plugs the namespace `netns` into the bridge as `ethwe`, with the given addresses
    /// (`a.b.c.d/n`, or `net:CIDR` for one from IPAM in that subnet) or one from IPAM.
    func attach(netns spec: String, addresses: [String], id: String?, hostname: String?) async throws(APIFailure) -> AttachedContainer {
        let namespace: NetworkNamespace
        do { namespace = try NetworkNamespace(spec) } catch { throw APIFailure(.notFound, "\(error)") }
        let id = id ?? spec
        if let existing = containers.withLock({ $0[id] }) { return existing }
        let cidrs = try await addressesFor(id: id, specs: addresses)
        let mac = AttachedContainer.mac(for: id)
        let container = AttachedContainer(id: id, netns: spec, hostname: hostname, mac: mac.withUnsafeBytes { MAC($0, at: 0).description },
                                          cidrs: cidrs.map(\.cidr), hostLink: AttachedContainer.hostLink(for: id))
        do {
            try links.withLock { h in
                try h.createVeth(container.hostLink, peer: Self.containerInterface, mtu: Self.bridgeMTU, peerMTU: mtu,
                                 peerMAC: mac, peerNamespace: namespace.descriptor)
                try h.setLink(container.hostLink, up: true, master: Self.bridge)
                // Pinned, so the bridge never floods a frame for a local container (one that came
                // by the fast path would reach the sleeve and go round again).
                try h.addBridgeEntry(mac, port: container.hostLink)
            }
            let inside = try namespace.socket()
            for c in cidrs { try inside.addAddress(c.address, prefix: c.subnet.prefix, to: Self.containerInterface) }
            try inside.setLink(Self.containerInterface, up: true)
            try inside.setLink("lo", up: true)
            if let dnsDomain {
                try inside.addRoute(Self.dnsAddress, prefix: 32, link: Self.containerInterface)
                try inside.addNeighbour(Self.dnsAddress, mac: bridgeMAC, link: Self.containerInterface)
                try links.withLock { h in
                    for c in cidrs {
                        try h.addRoute(c.address, prefix: 32, link: Self.bridge, table: Self.dnsTable)
                        try h.addNeighbour(c.address, mac: mac, link: Self.bridge)
                    }
                }
                if namespace.isNamed { try Self.writeResolvConf(netns: spec, domain: dnsDomain) }
            }
        } catch {
            _ = links.withLock { try? $0.deleteLink(container.hostLink) }
            if let ipam { _ = try? ipam.free(id: id, address: nil) }
            throw APIFailure(.internalServerError, "cannot attach \(spec): \(error)")
        }
        containers.withLock { $0[id] = container }
        persist()
        return container
    }

    /// Unplugs a container (by ID or namespace) and frees its addresses.
    func detach(_ key: String) throws(APIFailure) -> AttachedContainer {
        guard let container = containers.withLock({ c in
            (c[key] ?? c.values.first { $0.netns == key }).map { c.removeValue(forKey: $0.id)! }
        }) else { throw APIFailure(.notFound, "no attached container \(key)") }
        links.withLock { h in
            _ = try? h.deleteLink(container.hostLink)
            for c in container.cidrs.compactMap(Allocation.init(cidr:)) {
                _ = try? h.removeRoute(c.address, prefix: 32, link: Self.bridge, table: Self.dnsTable)
                _ = try? h.removeNeighbour(c.address, link: Self.bridge)
            }
        }
        Self.removeResolvConf(of: container)
        if let ipam { _ = try? ipam.free(id: container.id, address: nil) }
        persist()
        return container
    }

    func list() -> [AttachedContainer] { containers.withLock { $0.values.sorted { $0.id < $1.id } } }

    // MARK: the host on the overlay

    /// Gives the bridge (so the host) addresses on the overlay: the given ones, or one from IPAM.
    func expose(addresses: [String]) async throws(APIFailure) -> [String] {
        let cidrs = try await addressesFor(id: Self.exposeID, specs: addresses)
        do {
            try links.withLock { h in
                for c in cidrs { try h.addAddress(c.address, prefix: c.subnet.prefix, to: Self.bridge) }
            }
        } catch { throw APIFailure(.internalServerError, "cannot expose: \(error)") }
        return cidrs.map(\.cidr)
    }

    /// Takes the host's overlay addresses back (those IPAM gave `expose`).
    func hide() -> [String] {
        guard let ipam else { return [] }
        let held = ipam.lookup(id: Self.exposeID)
        links.withLock { h in
            for c in held { _ = try? h.removeAddress(c.address, prefix: c.subnet.prefix, from: Self.bridge) }
        }
        _ = try? ipam.free(id: Self.exposeID, address: nil)
        return held.map(\.cidr)
    }

    // MARK: internals

    /// Resolves address specs for `id`: explicit CIDRs (claimed from IPAM when inside its
    /// range), `net:CIDR` (allocated there), or nothing (one from the default subnet).
    private func addressesFor(id: String, specs: [String]) async throws(APIFailure) -> [Allocation] {
        var result: [Allocation] = []
        do throws(IPAMError) {
            for spec in specs.isEmpty ? ["net:default"] : specs {
                if spec.hasPrefix("net:") {
                    guard let ipam else { throw IPAMError(.invalid, "IPAM is off: give the address (--ip a.b.c.d/n)") }
                    let text = String(spec.dropFirst(4))
                    var subnet: Subnet? = nil
                    if text != "default" {
                        guard let s = Subnet(text) else { throw IPAMError(.invalid, "'\(text)' is not a network like 10.32.1.0/24") }
                        subnet = s
                    }
                    result.append(try await ipam.allocate(id: id, in: subnet, timeout: Router.ipamWait))
                } else {
                    guard let a = Allocation(cidr: spec) else { throw IPAMError(.invalid, "'\(spec)' is not an address like 10.32.0.5/12") }
                    if let ipam {
                        result.append(try await ipam.claim(id: id, address: a.address, subnet: a.subnet, timeout: Router.ipamWait))
                    } else {
                        result.append(a)
                    }
                }
            }
        } catch {
            throw APIFailure(error)
        }
        return result
    }

    // MARK: resolv.conf

    /// The first line of the resolv.conf files attach writes: only those are replaced or removed.
    static let resolvConfMarker = "# written by weft attach"

    static func resolvConfPath(netns: String) -> URL {
        URL(fileURLWithPath: "/etc/netns/\(netns)/resolv.conf")
    }

    /// Writes /etc/netns/NAME/resolv.conf (what `ip netns exec NAME` shows as /etc/resolv.conf)
    /// pointing at the DNS address, unless the user put a file of their own there.
    static func writeResolvConf(netns: String, domain: String) throws {
        let url = resolvConfPath(netns: netns)
        if let existing = try? String(contentsOf: url, encoding: .utf8), !existing.hasPrefix(resolvConfMarker) { return }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let search = domain.hasSuffix(".") ? String(domain.dropLast()) : domain
        let text = "\(resolvConfMarker): names in \(search) resolve through this host's router\n"
            + "nameserver \(IPv4.format(dnsAddress))\nsearch \(search)\n"
        try Data(text.utf8).write(to: url, options: .atomic)
    }

    static func removeResolvConf(of container: AttachedContainer) {
        let url = resolvConfPath(netns: container.netns)
        guard let text = try? String(contentsOf: url, encoding: .utf8), text.hasPrefix(resolvConfMarker) else { return }
        try? FileManager.default.removeItem(at: url)
        // The directory goes too when nothing else is in it (rmdir refuses otherwise).
        _ = rmdir(url.deletingLastPathComponent().path)
    }

    private func persist() {
        let list = self.list()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        if let data = try? encoder.encode(list) { try? stateDirectory.write(Self.stateFile, data) }
    }
}
