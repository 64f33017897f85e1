import FoundationEssentials
import Glibc
public import Logging
import Metrics
import NIOCore
import NIOPosix
public import Prometheus
import ServiceLifecycle
import WeftAPI
import WeftDataPath
import WeftDNS
import WeftIPAM
import WeftMesh
import WeftTypes

/// A Weft router: the mesh, and the local HTTP API in front of it. `run()` starts both and
/// returns once a stop was requested (by `POST /stop`, `DELETE /peer` or a signal).
public final class Router: Sendable {
    /// The version the CLI and the report print.
    public static let version = "0.1.0"

    public let configuration: RouterConfiguration
    let logger: Logger
    let group: MultiThreadedEventLoopGroup
    let mesh: Mesh
    /// IPAM, unless `--ipalloc-range` is empty.
    let ipam: IPAMService?
    /// The embedded DNS, unless `--no-dns`.
    let dns: DNSService?
    /// The resolvers names outside the DNS domain go to.
    let dnsUpstream: [SocketAddress]
    /// Both data paths and the host plumbing (the bridge, the VXLAN device).
    let dataPath: any DataPlane
    /// The attached containers.
    let containers: ContainerRegistry
    private let stopPromise: EventLoopPromise<Void>
    private let registry: PrometheusCollectorRegistry?

    /// `registry` is the Prometheus registry swift-metrics was bootstrapped with (nil in tests).
    /// Sets up the bridge, the sleeve and the fast path. Throws when persisted state cannot be
    /// read (it is never silently dropped) or the kernel refuses the data path.
    public convenience init(configuration: RouterConfiguration, logger: Logger, registry: PrometheusCollectorRegistry?) throws {
        let settings = configuration.settings
        try self.init(configuration: configuration, logger: logger, registry: registry) { macs in
            try DataPath(configuration: .init(me: configuration.mesh.identity.name, port: configuration.mesh.port,
                                              mtu: settings.mtu, sealed: configuration.mesh.password != nil,
                                              trusted: settings.trustedSubnets, fastdp: settings.fastdp,
                                              aes: configuration.mesh.capabilities.contains(DataPath.aesCapability),
                                              serviceAddress: settings.dns == nil ? nil : Self.dnsAddress),
                         logger: logger, macs: macs)
        }
    }

    /// A router over the data path `makeDataPath` makes (handed the sender of the `macs`
    /// channel): the real one, or an in-memory one in tests.
    init(configuration: RouterConfiguration, logger: Logger, registry: PrometheusCollectorRegistry?,
         makeDataPath: (GossipSender) throws -> any DataPlane) throws {
        self.configuration = configuration
        self.logger = logger
        self.registry = registry
        group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        mesh = Mesh(configuration: configuration.mesh, group: group, logger: logger)
        stopPromise = group.next().makePromise()
        ipam = try Self.makeIPAM(configuration: configuration, mesh: mesh, logger: logger)
        dns = try Self.makeDNS(configuration: configuration, mesh: mesh, logger: logger)
        dnsUpstream = configuration.settings.dns.map { Self.upstreamServers(resolvConf: $0.resolvConf) } ?? []
        do { dataPath = try makeDataPath(mesh.sender(channel: MACDirectoryChannel.channel)) } catch { throw StateError("\(error)") }
        containers = try ContainerRegistry(dataPath: dataPath, dnsDomain: dns?.responder.domain.description,
                                           stateDirectory: configuration.stateDirectory, ipam: ipam, logger: logger)
        let channels: [(any GossipChannel)?] = [ipam, dns, dataPath.macDirectory]
        channels.compactMap { $0 }.forEach(mesh.register)
        let observe: @Sendable (MeshView) -> Void = { [ipam, dns, dataPath] view in
            ipam?.updatePeers(reachable: view.reachable, connected: Set(view.neighbours.map(\.name)), nicknames: view.nicknames)
            dns?.updatePeers(reachable: view.reachable)
            dataPath.update(neighbours: view.neighbours, routes: view.routes)
        }
        mesh.onTopologyChange(observe)
        observe(mesh.view())
    }

    /// Where containers find the embedded DNS: 169.254.53.53 on the bridge (the data path's
    /// service address). A link-local address outside every overlay range, the same on every
    /// host; each container reaches its own host's bridge directly, so no ARP for it ever
    /// crosses the overlay (where every host's bridge would answer).
    static let dnsAddress: UInt32 = HostBridge.defaultServiceAddress

    /// Runs the router until a stop is requested (`POST /stop`, `DELETE /peer`, `requestStop()`,
    /// or, with `handlingSignals`, SIGTERM or SIGINT): the data path, the mesh, IPAM, DNS and
    /// the API as services of one group (RouterServices.swift says in which order they start
    /// and stop). Throws what made a service fail (the API port taken, DNS refused).
    public func run(handlingSignals: Bool = true) async throws {
        if configuration.mesh.password == nil {
            logger.warning("no password: mesh traffic is NOT encrypted (set --password or WEFT_PASSWORD)")
        }
        // Before the mesh connects, so every new neighbour's first state already holds the
        // ring and this host's MACs.
        ipam?.start()
        dataPath.start()
        for c in containers.detachVanished() {
            dns?.remove(containerID: c.id)
            logger.notice("container \(c.id) went while the router was down: its addresses and names are freed")
        }
        announceMACs()
        var services: [any Service] = [DataPathService(dataPath: dataPath, mesh: mesh, loop: group.next()),
                                       MeshService(mesh: mesh, initialPeers: configuration.initialPeers)]
        if let ipam { services.append(IPAMTicks(ipam: ipam, logger: logger)) }
        if let dns { services.append(DNSServing(router: self, dns: dns)) }
        services.append(APIService(router: self))
        services.append(StopRequest(stopped: stopPromise.futureResult) { [self] in requestStop() })
        let serviceGroup = ServiceGroup(configuration: .init(
            services: services.map {
                .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup,
                      failureTerminationBehavior: .gracefullyShutdownGroup)
            },
            gracefulShutdownSignals: handlingSignals ? [.sigterm, .sigint] : [],
            logger: logger))
        var failure: (any Error)?
        do { try await serviceGroup.run() } catch { failure = error }
        // The event loops go last: every service has stopped using them. (Shutting them down
        // fails only when they are down already.)
        try? await group.shutdownGracefully()
        logger.info("stopped")
        if let failure { throw failure }
    }

    /// Asks `run()` to return; safe from any thread, any number of times.
    public func requestStop() {
        stopPromise.succeed(())
    }

    // MARK: API

    /// Answers a call that `APIGuard` lets through; a failure goes out as `APIErrorBody` to a
    /// client that asked for JSON.
    func handle(_ request: APIRequest) async -> APIResponse {
        let port = configuration.apiPort
        let refusal = APIGuard.refusal(for: request, apiHost: configuration.apiHost, apiPort: port) {
            APIGuard.loopbackOwner(clientPort: $0, serverPort: port)
        }
        let response: APIResponse
        if let refusal { response = refusal } else { response = await answer(request) }
        guard request.acceptsJSON, response.status.code >= 300, response.contentType.hasPrefix("text/") else { return response }
        let message = response.body.split(separator: "\n").first.map(String.init) ?? ""
        return .json(Self.encodeJSON(APIErrorBody(message: message, status: Int(response.status.code))), response.status)
    }

    func answer(_ request: APIRequest) async -> APIResponse {
        if let response = await handleIPAM(request) { return response }
        if let response = await handleContainers(request) { return response }
        if let response = await handleDNS(request) { return response }
        switch (request.method, request.path) {
        case (.GET, ["status"]):
            return .text(StatusText.summary(mesh.status(), version: Self.version, sections: statusSections()))
        case (.GET, ["status", "peers"]):
            return .text(StatusText.peers(mesh.status()))
        case (.GET, ["status", "connections"]):
            return .text(StatusText.connections(mesh.status(), dataPath: dataPath.status()))
        case (.GET, ["status", "targets"]):
            return .text(StatusText.targets(mesh.status()))
        case (.GET, ["report"]):
            return .json(report())
        case (.GET, ["metrics"]):
            return .text(metrics())
        case (.GET, ["version"]):
            return .text(Self.version + "\n")
        case (.POST, ["connect"]):
            let peers = request.values("peer")
            if let bad = peers.first(where: { PeerAddress($0, defaultPort: configuration.mesh.port) == nil }) {
                return .error("'\(bad)' is not a peer address (host[:port])")
            }
            mesh.connect(peers, replace: request.values("replace").contains("true"))
            return .text("")
        case (.POST, ["forget"]):
            mesh.forget(request.values("peer"))
            return .text("")
        case (.POST, ["stop"]):
            requestStop()
            return .text("")
        case (.DELETE, ["peer"]):
            // Leaving for good: IPAM hands its space to a live peer first.
            let heir = await ipam?.handOff(timeout: .seconds(5))
            dataPath.tearDown(containerLinks: containers.removeAll().map(\.hostLink))
            requestStop()
            return .text(heir.map { "handed IPAM space to \($0)\n" } ?? "")
        default:
            return .error("no such call: \(request.method) /\(request.path.joined(separator: "/"))", .notFound)
        }
    }

    /// The fast path's, IPAM's and DNS's lines of `weft status`.
    func statusSections() -> [StatusText.Section] {
        var sections: [StatusText.Section] = []
        let trusted = configuration.settings.trustedSubnets.map(\.description)
        sections.append(("sleeve", [("MTU", "\(configuration.settings.mtu)"),
                                    ("TrustedSubnets", trusted.isEmpty ? "none" : trusted.joined(separator: ","))]))
        let path = dataPath.status()
        sections.append(("fastdp", [("Status", path.fastpath ? "on (\(path.fastdp.count) peers)" : "off"),
                                    ("Device", path.fastpath ? Fastpath.device : "none")]))
        if let ipam = ipam?.status() {
            sections.append(("ipam", [("Status", ipam.state), ("Range", ipam.range), ("Allocated", "\(ipam.allocated)")]))
        }
        if let dns = dnsReport() {
            sections.append(("dns", [("Domain", dns.domain), ("Address", dns.address),
                                     ("Upstream", dns.upstream.isEmpty ? "none" : dns.upstream.joined(separator: ", ")),
                                     ("TTL", "\(dns.ttl)"), ("Entries", "\(dns.entries.count)")]))
        }
        return sections
    }

    func report() -> String {
        Self.encodeJSON(RouterReport(mesh.status(), ipam: ipam?.status(), dataPath: dataPath.status(), dns: dnsReport(),
                                     version: Self.version))
    }

    /// Pretty, key-sorted JSON and a newline, as every JSON answer is written.
    static func encodeJSON(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // The contract's types encode plain strings and numbers: encoding cannot fail.
        guard let data = try? encoder.encode(value) else { return "{}\n" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// Prometheus text: the gauges are set from the current status, then the registry emitted.
    func metrics() -> String {
        let s = mesh.status()
        Gauge(label: "weft_peers").record(s.peers.count)
        for state in ["established", "pending", "failed"] {
            Gauge(label: "weft_connections", dimensions: [("state", state)])
                .record(s.connections.filter { $0.state == state }.count)
        }
        Gauge(label: "weft_targets").record(s.targets.count)
        if let ipam = ipam?.status() {
            Gauge(label: "weft_ipam_ready").record(ipam.ready ? 1 : 0)
            Gauge(label: "weft_ipam_allocated").record(ipam.allocated)
            Gauge(label: "weft_ipam_owned").record(ipam.owners.first { $0.name == s.identity.name }?.owned ?? 0)
        }
        if let dns { Gauge(label: "weft_dns_entries").record(dns.entries.count) }
        Gauge(label: "weft_fastdp_peers").record(dataPath.status().fastdp.count)
        var text = registry?.emitToString() ?? ""
        var typed = Set<String>()
        for (name, labels, value) in dataPath.counters {
            if typed.insert(name).inserted { text += "# TYPE \(name) counter\n" }
            let l = labels.isEmpty ? "" : "{" + labels.map { "\($0.0)=\"\($0.1)\"" }.joined(separator: ",") + "}"
            text += "\(name)\(l) \(value)\n"
        }
        return text
    }
}
