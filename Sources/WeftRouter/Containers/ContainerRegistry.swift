import Foundation
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

    /// Plugs the namespace `netns` in as `ethwe`, with the given addresses (`a.b.c.d/n`, or
    /// `net:CIDR` for one from IPAM in that subnet) or one from IPAM.
    func attach(netns spec: String, addresses: [String], id: String?, hostname: String?) async throws(APIFailure) -> AttachedContainer {
        do { try dataPath.checkNamespace(spec) } catch { throw APIFailure(.notFound, error.description) }
        let id = id ?? spec
        if let existing = containers.withLock({ $0[id] }) { return existing }
        let allocations = try await addressesFor(id: id, specs: addresses)
        let mac = AttachedContainer.mac(for: id)
        let container = AttachedContainer(id: id, netns: spec, hostname: hostname, mac: mac.description,
                                          cidrs: allocations.map(\.cidr), hostLink: AttachedContainer.hostLink(for: id))
        let link = ContainerLink(netns: spec, hostLink: container.hostLink, mac: mac, addresses: allocations)
        do throws(DataPathError) {
            try dataPath.plug(link)
            if let dnsDomain, NetworkNamespace.isNamed(spec) {
                do { try Self.writeResolvConf(netns: spec, domain: dnsDomain) } catch {
                    dataPath.unplug(link)
                    throw DataPathError(.kernel, "cannot write \(Self.resolvConfPath(netns: spec).path): \(error)")
                }
            }
        } catch {
            freeAddresses(of: id)
            throw APIFailure(error.kind == .noSuchNamespace ? .notFound : .internalServerError,
                             error.kind == .noSuchNamespace ? error.description : "cannot attach \(spec): \(error)")
        }
        containers.withLock { $0[id] = container }
        persist()
        return container
    }

    /// Unplugs a container (by ID or namespace) and frees its addresses.
    func detach(_ key: String) throws(APIFailure) -> AttachedContainer {
        guard let container = containers.withLock({ c in
            (c[key] ?? c.values.first { $0.netns == key }).flatMap { c.removeValue(forKey: $0.id) }
        }) else { throw APIFailure(.notFound, "no attached container \(key)") }
        dataPath.unplug(container.link)
        Self.removeResolvConf(of: container)
        freeAddresses(of: container.id)
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
                      addresses: cidrs.compactMap(Allocation.init(cidr:)))
    }
}
