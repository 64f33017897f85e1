import FoundationEssentials
import Glibc
import Logging
import NIOCore
import NIOHTTP1
import WeftAPI
import WeftDNS
import WeftIPAM
import WeftMesh
import WeftTypes

/// The DNS side of the router: the service and its server, the names of attached containers,
/// and the `/name/...` and `/status/dns` calls.
extension Router {
    static let dnsStateFile = "dns.json"
    /// How long the records of an unreachable peer are kept (it may come back).
    static let dnsGrace: Double = 600

    static func makeDNS(configuration: RouterConfiguration, mesh: Mesh, logger: Logger) throws -> DNSService? {
        guard let settings = configuration.settings.dns else { return nil }
        let overlay = configuration.settings.ipamRange.map { (start: $0.start, size: $0.size) }
        let responder = DNSResponder(domain: settings.domain, ttl: settings.ttl, overlay: overlay)
        let state = configuration.stateDirectory
        do {
            return try DNSService(
                me: configuration.mesh.identity.name, responder: responder, grace: dnsGrace,
                saved: state.read(dnsStateFile),
                sender: mesh.sender(channel: DNSService.channel),
                save: { data in try state.write(dnsStateFile, data) }, logger: logger)
        } catch {
            throw StateError("\(error) (\(state.url(dnsStateFile).path)); fix or delete it")
        }
    }

    /// The upstream resolvers of the resolv.conf at `path` (read once, at launch), the DNS
    /// address itself left out.
    static func upstreamServers(resolvConf path: String) -> [SocketAddress] {
        // No readable resolv.conf: no upstream, which startDNS logs as a warning.
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return UpstreamResolver.servers(resolvConf: text).filter { $0.ipAddress != IPv4.format(Router.dnsAddress) }
    }

    /// Starts the server on the DNS address, forwarding to the resolvers of `--resolv-conf`.
    func startDNS(_ dns: DNSService, group: any EventLoopGroup) async throws -> DNSServer {
        let own = IPv4.format(Router.dnsAddress)
        let servers = dnsUpstream
        if servers.isEmpty {
            logger.warning("DNS: no upstream resolvers in \(configuration.settings.dns?.resolvConf ?? ""); names outside the domain fail")
        }
        let upstream = UpstreamResolver(servers: servers, group: group)
        do {
            let server = try await DNSServer.start(host: own, port: 53, group: group, upstream: upstream) {
                dns.answer($0)
            }
            logger.info("DNS for \(dns.responder.domain) on \(own):53, upstream \(servers.compactMap(\.ipAddress))")
            return server
        } catch {
            throw StateError("cannot serve DNS on \(own):53: \(error)")
        }
    }

    /// The FQDN of a name as a user gives it: a bare name gets the domain appended; a name
    /// with a trailing dot, or already in the domain, stays.
    func fqdn(_ text: String) -> DNSName? {
        guard let dns, let name = DNSName(text), name != .root else { return nil }
        if text.hasSuffix(".") || name.isSubdomain(of: dns.responder.domain) { return name }
        return name.appending(dns.responder.domain)
    }

    /// Registers the names of an attached container (hostname and aliases) for each of its
    /// addresses.
    func registerName(of container: AttachedContainer) {
        guard let dns else { return }
        for name in container.names.compactMap(fqdn) {
            for a in container.cidrs.compactMap(Allocation.init(cidr:)) {
                dns.add(hostname: name, address: a.address, containerID: container.id)
            }
        }
    }

    /// The report's `dns` key.
    func dnsReport() -> RouterReport.DNS? {
        guard let dns else { return nil }
        return RouterReport.DNS(
            domain: dns.responder.domain.description, address: IPv4.format(Router.dnsAddress), ttl: dns.responder.ttl,
            upstream: dnsUpstream.compactMap(\.ipAddress),
            entries: dns.entries.map {
                .init(hostname: $0.hostname.description, address: IPv4.format($0.address), origin: "\($0.origin)",
                      containerID: $0.containerID, version: $0.version)
            })
    }

    /// Answers the DNS calls; nil for any other call.
    func handleDNS(_ request: APIRequest) async -> APIResponse? {
        let path = request.path
        guard path.first == "name" || path == ["status", "dns"] else { return nil }
        guard let dns else { return .error("DNS is off (--no-dns)", .notFound) }
        if path == ["status", "dns"] {
            return .text(StatusText.dns(dns.entries, domain: dns.responder.domain.description))
        }
        switch (request.method, path.count) {
        case (.GET, 2):
            guard let name = fqdn(path[1]) else { return .error("'\(path[1])' is not a domain name") }
            let found = dns.addresses(of: name)
            guard !found.isEmpty else { return .error("\(name) has no address", .notFound) }
            return .text(found.map { IPv4.format($0) + "\n" }.joined())
        case (.PUT, 3):
            guard let address = IPv4.parse(path[2]) else { return .error("'\(path[2])' is not an IPv4 address") }
            let given = request.values("fqdn").first ?? ""
            let text = given.isEmpty ? (containers.list().first { $0.id == path[1] }?.hostname ?? "") : given
            guard !text.isEmpty else { return .error("give the name (-h FQDN): \(path[1]) is not a container with a name") }
            guard let name = fqdn(text) else { return .error("'\(text)' is not a domain name") }
            dns.add(hostname: name, address: address, containerID: path[1])
            return .text("")
        case (.DELETE, 2), (.DELETE, 3):
            var address: UInt32? = nil
            if path.count == 3, path[2] != "*" {
                guard let a = IPv4.parse(path[2]) else { return .error("'\(path[2])' is not an IPv4 address") }
                address = a
            }
            var name: DNSName? = nil
            if let text = request.values("fqdn").first, !text.isEmpty {
                guard let n = fqdn(text) else { return .error("'\(text)' is not a domain name") }
                name = n
            }
            let removed = dns.remove(containerID: path[1], address: address, hostname: name)
            guard removed > 0 else { return .error("no name of \(path[1]) matches", .notFound) }
            return .text("")
        default:
            return .error("no such call: \(request.method) /\(path.joined(separator: "/"))", .notFound)
        }
    }
}
