import FoundationEssentials
import Glibc
import Logging
import Synchronization
import WeftDataPath
import WeftIPAM
import WeftNetlink
import WeftTypes

/// The containers plugged into the `weft` bridge (`attach`), kept in `containers.json`: their
/// addresses come from IPAM (or are given), their links from the data path, and for a named
/// namespace a resolv.conf pointing at the embedded DNS; plus the host's own overlay addresses
/// (`expose`).
final class ContainerRegistry: Sendable {
    static let stateFile = "containers.json"
    /// The IPAM ID of the host's own overlay addresses.
    static let exposeID = "weft:expose"

    private let dataPath: any DataPlane
    /// The DNS search domain written into containers' resolv.conf; nil when DNS is off.
    private let dnsDomain: String?
    private let containers: Mutex<[String: AttachedContainer]>
    private let stateDirectory: StateDirectory
    private let ipam: IPAMService?
    private let logger: Logger

    /// Reads `containers.json`; a damaged file stops the launch (it is never silently dropped).
    init(dataPath: any DataPlane, dnsDomain: String?, stateDirectory: StateDirectory, ipam: IPAMService?,
         logger: Logger) throws {
        self.dataPath = dataPath
        self.dnsDomain = dnsDomain
        self.stateDirectory = stateDirectory
        self.ipam = ipam
        self.logger = logger
        var known: [String: AttachedContainer] = [:]
        if let data = stateDirectory.read(Self.stateFile) {
            guard let list = try? JSONDecoder().decode([AttachedContainer].self, from: data) else {
                throw StateError("\(stateDirectory.url(Self.stateFile).path) is damaged; fix or delete it")
            }
            for c in list { known[c.id] = c }
        }
        containers = Mutex(known)
    }

    /// What a caller asks of attach beyond the namespace.
    struct AttachRequest {
        /// `a.b.c.d/n`, a bare `a.b.c.d` (in the IPAM range's subnet), or `net:CIDR` for one from
        /// IPAM in that subnet; none for one from IPAM.
        var addresses: [String] = []
        var id: String?
        /// The hostname first, then aliases.
        var names: [String] = []
        var interface = HostBridge.containerInterface
        var mac: MAC?
        /// Expose the host on the container's subnet and route the container's default there.
        var gateway = false
        /// Leave the container end in this namespace, named `interface`, for the runtime to
        /// move; the addresses (CIDRs) are then the runtime's, already held through IPAM.
        var handoff = false
    }

    /// Plugs the namespace `netns` in as the request's interface, with its addresses (or one
    /// from IPAM). Attaching an ID already attached answers what it has.
    func attach(netns spec: String, _ request: AttachRequest) async throws(APIFailure) -> AttachedContainer {
        if !request.handoff {
            do { try dataPath.checkNamespace(spec) } catch { throw APIFailure(.notFound, error.description) }
        }
        let id = request.id ?? spec
        if let existing = containers.withLock({ $0[id] }) { return existing }
        let allocations: [Allocation]
        if request.handoff {
            allocations = try request.addresses.map { text throws(APIFailure) in
                guard let a = Allocation(cidr: text) else { throw APIFailure(.badRequest, "'\(text)' is not an address like 10.32.0.5/12") }
                return a
            }
        } else {
            allocations = try await addressesFor(id: id, specs: request.addresses)
        }
        var gateway: UInt32? = nil
        if request.gateway, ipam != nil, let first = allocations.first {
            do {
                let exposed = try await expose(addresses: ["net:\(first.subnet)"])
                gateway = exposed.compactMap(Allocation.init(cidr:)).first { $0.subnet.contains(first.address) }?.address
            } catch {
                freeAddresses(of: id)
                throw error
            }
        }
        let mac = request.mac ?? AttachedContainer.mac(for: id)
        let container = AttachedContainer(
            id: id, netns: spec, hostname: request.names.first, aliases: request.names.count > 1 ? Array(request.names.dropFirst()) : nil,
            mac: mac.description, cidrs: allocations.map(\.cidr), hostLink: AttachedContainer.hostLink(for: id),
            interface: request.interface == HostBridge.containerInterface ? nil : request.interface,
            gateway: gateway.map(IPv4.format), handoff: request.handoff ? true : nil)
        let link = container.link
        do throws(DataPathError) {
            try dataPath.plug(link)
            if let dnsDomain, NetworkNamespace.isNamed(spec) {
                do { try Self.writeResolvConf(netns: spec, domain: dnsDomain) } catch {
                    dataPath.unplug(link)
                    throw DataPathError(.kernel, "cannot write \(Self.resolvConfPath(netns: spec).path): \(error)")
                }
            }
        } catch {
            if !request.handoff { freeAddresses(of: id) }
            throw APIFailure(error.kind == .noSuchNamespace ? .notFound : .internalServerError,
                             error.kind == .noSuchNamespace ? error.description : "cannot attach \(spec): \(error)")
        }
        containers.withLock { $0[id] = container }
        persist()
        return container
    }

    /// Detaches, at launch, every container whose link is gone (its namespace was deleted while
    /// the router was down, as a runtime's DEL that found no router leaves it): their addresses
    /// and names are freed. Returns them.
    func detachVanished() -> [AttachedContainer] {
        let gone = list().filter { !dataPath.isPlugged($0.link) }
        for c in gone {
            containers.withLock { _ = $0.removeValue(forKey: c.id) }
            Self.removeResolvConf(of: c)
            if c.handoff != true { freeAddresses(of: c.id) }
        }
        if !gone.isEmpty { persist() }
        return gone
    }

    /// Unplugs a container (by ID or namespace) and frees its addresses.
    func detach(_ key: String) throws(APIFailure) -> AttachedContainer {
        guard let container = containers.withLock({ c in
            (c[key] ?? c.values.first { $0.netns == key }).flatMap { c.removeValue(forKey: $0.id) }
        }) else { throw APIFailure(.notFound, "no attached container \(key)") }
        dataPath.unplug(container.link)
        Self.removeResolvConf(of: container)
        if container.handoff != true { freeAddresses(of: container.id) }
        persist()
        return container
    }

    func list() -> [AttachedContainer] { containers.withLock { $0.values.sorted { $0.id < $1.id } } }

    /// Forgets every container (reset: their links go with the bridge), resolv.conf files too.
    func removeAll() -> [AttachedContainer] {
        let all = containers.withLock { c in defer { c.removeAll() }; return Array(c.values) }
        for c in all { Self.removeResolvConf(of: c) }
        stateDirectory.remove(Self.stateFile)
        return all
    }

    // MARK: the host on the overlay

    /// Gives the bridge (so the host) addresses on the overlay: the given ones, or one from IPAM.
    func expose(addresses: [String]) async throws(APIFailure) -> [String] {
        let allocations = try await addressesFor(id: Self.exposeID, specs: addresses)
        do { try dataPath.addHostAddresses(allocations) } catch { throw APIFailure(.internalServerError, error.description) }
        return allocations.map(\.cidr)
    }

    /// Takes the host's overlay addresses back (those IPAM gave `expose`).
    func hide() -> [String] {
        guard let ipam else { return [] }
        let held = ipam.lookup(id: Self.exposeID)
        dataPath.removeHostAddresses(held)
        freeAddresses(of: Self.exposeID)
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
                    if !spec.contains("/"), let ipam {
                        guard let address = IPv4.parse(spec) else { throw IPAMError(.invalid, "'\(spec)' is not an address like 10.32.0.5") }
                        let claimed = try await ipam.claim(id: id, address: address, subnet: nil, timeout: Router.ipamWait)
                        guard claimed.subnet.contains(address) else {
                            throw IPAMError(.invalid, "\(spec) is outside the IPAM range \(claimed.subnet): give it with its prefix (a.b.c.d/n)")
                        }
                        result.append(claimed)
                        continue
                    }
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

    /// Frees what IPAM holds for `id`; a failure is logged (the addresses stay held, and
    /// `weft rmpeer` or a later detach can free them).
    private func freeAddresses(of id: String) {
        guard let ipam else { return }
        do { _ = try ipam.free(id: id, address: nil) } catch {
            logger.warning("cannot free the addresses of \(id): \(error)")
        }
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
            + "nameserver \(IPv4.format(Router.dnsAddress))\nsearch \(search)\n"
        try Data(text.utf8).write(to: url, options: .atomic)
    }

    static func removeResolvConf(of container: AttachedContainer) {
        let url = resolvConfPath(netns: container.netns)
        // No file, or one the user wrote: nothing of ours to remove.
        guard let text = try? String(contentsOf: url, encoding: .utf8), text.hasPrefix(resolvConfMarker) else { return }
        do { try FileManager.default.removeItem(at: url) } catch { return }
        // The directory goes too when nothing else is in it (rmdir refuses otherwise, rightly).
        _ = rmdir(url.deletingLastPathComponent().path)
    }

    private func persist() {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do { try stateDirectory.write(Self.stateFile, try encoder.encode(list())) } catch {
            logger.error("cannot save \(Self.stateFile): \(error); a restart would not know the attached containers")
        }
    }
}

extension AttachedContainer {
    /// Its plug, for the data path.
    var link: ContainerLink {
        ContainerLink(netns: netns, hostLink: hostLink, mac: MAC(mac) ?? AttachedContainer.mac(for: id),
                      addresses: cidrs.compactMap(Allocation.init(cidr:)), interface: interface ?? HostBridge.containerInterface,
                      gateway: gateway.flatMap(IPv4.parse), handoff: handoff == true)
    }
}
