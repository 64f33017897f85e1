import Foundation
public import Logging
import Metrics
import NIOCore
import NIOPosix
public import Prometheus
import WeftAPI
import WeftDNS
import WeftIPAM
import WeftMesh
import WeftSleeve
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
    /// The bridge, the capture pair and the attached containers.
    let host: HostNetwork
    /// The sleeve data path.
    let sleeve: Sleeve
    /// The fast path's probing, unless `--no-fastdp` or a password.
    let fastpath: Fastpath?
    /// Which MACs are behind which peer (the `macs` channel).
    let macDirectory: MACDirectoryChannel
    private let stopPromise: EventLoopPromise<Void>
    private let registry: PrometheusCollectorRegistry?

    /// `registry` is the Prometheus registry swift-metrics was bootstrapped with (nil in tests).
    /// Throws when the persisted IPAM state cannot be read (it is never silently dropped).
    public init(configuration: RouterConfiguration, logger: Logger, registry: PrometheusCollectorRegistry?) throws {
        self.configuration = configuration
        self.logger = logger
        self.registry = registry
        group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        mesh = Mesh(configuration: configuration.mesh, group: group, logger: logger)
        stopPromise = group.next().makePromise()
        ipam = try Self.makeIPAM(configuration: configuration, mesh: mesh, loop: group.next(), logger: logger)
        if let ipam {
            mesh.register(ipam)
            mesh.onTopologyChange { [mesh] in Self.tell(ipam, about: mesh.status()) }
            Self.tell(ipam, about: mesh.status())
        }
        dns = try Self.makeDNS(configuration: configuration, mesh: mesh, loop: group.next(), logger: logger)
        dnsUpstream = dns == nil ? [] : Self.upstreamServers(resolvConf: configuration.settings.dns?.resolvConf ?? "")
        if let dns {
            mesh.register(dns)
            mesh.onTopologyChange { [mesh] in dns.updatePeers(reachable: Set(mesh.status().unicast.keys)) }
        }
        host = try HostNetwork(mtu: configuration.settings.mtu, bridgeMAC: MAC.bridge(of: configuration.mesh.identity.name).bytes,
                               dnsDomain: dns?.responder.domain.description,
                               stateDirectory: configuration.stateDirectory, ipam: ipam)
        try host.setUp()
        do {
            sleeve = try Sleeve(configuration: .init(me: configuration.mesh.identity.name, port: configuration.mesh.port,
                                                     interface: HostNetwork.capturePort, mtu: configuration.settings.mtu,
                                                     sealed: configuration.mesh.password != nil,
                                                     trusted: configuration.settings.trustedSubnets.map { ($0.start, UInt64($0.start) + $0.size) }),
                                logger: logger)
        } catch { throw StateError("\(error)") }
        macDirectory = Self.makeMACDirectory(configuration: configuration, mesh: mesh, loop: group.next())
        mesh.register(macDirectory)
        if Self.fastpathWanted(configuration) {
            try host.setUpFastpath()
            do {
                fastpath = try Fastpath(me: configuration.mesh.identity.name, bridge: HostNetwork.bridge,
                                        mtu: configuration.settings.mtu, logger: logger)
            } catch { throw StateError("\(error)") }
        } else {
            host.removeFastpath()
            fastpath = nil
        }
        let aes = configuration.mesh.capabilities.contains(RouterConfiguration.aesCapability)
        mesh.onTopologyChange { [mesh, sleeve, port = configuration.mesh.port] in Self.tell(sleeve, about: mesh, port: port, aes: aes) }
    }

    /// Passes the neighbours (underlay address, session keys) and routes to the sleeve. The UDP
    /// keys are AES-256-GCM towards neighbours that, like this router (`aes`), have AES-NI.
    static func tell(_ sleeve: Sleeve, about mesh: Mesh, port: Int, aes: Bool) {
        let view = mesh.dataPathView()
        var neighbours: [PeerName: Sleeve.Neighbour] = [:]
        for n in view.neighbours {
            guard let address = IPv4.parse(n.host) else { continue }
            let both = aes && n.capabilities.contains(RouterConfiguration.aesCapability)
            neighbours[n.name] = Sleeve.Neighbour(address: address, port: port, keys: both ? n.keys?.withUDPCipher(.aes256GCM) : n.keys)
        }
        sleeve.update(neighbours: neighbours, routes: view.routes)
    }

    /// Starts the mesh and the API, waits for a stop request, and shuts both down.
    public func run() async throws {
        if configuration.mesh.password == nil {
            logger.warning("no password: mesh traffic is NOT encrypted (set --password or WEFT_PASSWORD)")
        }
        ipam?.start()
        sleeve.start()
        fastpath?.start()
        announceMACs()
        let heartbeats = group.next().scheduleRepeatedTask(initialDelay: .zero, delay: .seconds(1)) { [self] _ in
            sleeve.tick()
            fastpathTick()
        }
        try await mesh.start(initialPeers: configuration.initialPeers)
        let api: any Channel
        do {
            api = try await APIServer.bind(host: configuration.apiHost, port: configuration.apiPort, group: group) {
                [self] request in await self.handle(request)
            }
        } catch {
            await mesh.shutdown()
            throw StateError("cannot listen on \(configuration.apiHost):\(configuration.apiPort): \(error)")
        }
        logger.info("API on \(configuration.apiHost):\(configuration.apiPort)")
        var dnsServer: DNSServer? = nil
        if let dns {
            do { dnsServer = try await startDNS(dns, group: group) } catch {
                try? await api.close()
                await mesh.shutdown()
                throw error
            }
            // A restart announces the names of the containers still attached.
            for c in host.list() { registerName(of: c) }
        }
        let ipamTask = ipam.map { ipam in Task { await ipam.run() } }
        let dnsTask = dns.map { dns in Task { await dns.run() } }
        try? await stopPromise.futureResult.get()
        logger.info("stopping")
        ipamTask?.cancel()
        dnsTask?.cancel()
        await dnsServer?.stop()
        try? ipam?.persist()
        heartbeats.cancel()
        sleeve.stop()
        fastpath?.stop()
        try? await api.close()
        await mesh.shutdown()
        try? await group.shutdownGracefully()
    }

    /// Asks `run()` to return; safe from any thread, any number of times.
    public func requestStop() {
        stopPromise.succeed(())
    }

    // MARK: API

    /// Answers a call; a failure goes out as `APIErrorBody` to a client that asked for JSON.
    func handle(_ request: APIRequest) async -> APIResponse {
        let response = await answer(request)
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
            let up = fastpath?.up ?? []
            return .text(StatusText.connections(mesh.status(), direct: sleeve.directPaths(), fastdp: up,
                                                sleeveReasons: sleeveReasons(up: up)))
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
            fastpath?.stop()  // its capture is on a device tearDown removes
            host.tearDown()
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
        sections.append(("fastdp", [("Status", fastpath == nil ? "off" : "on (\(fastpath?.up.count ?? 0) peers)"),
                                    ("Device", fastpath == nil ? "none" : Fastpath.device)]))
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
        let up = fastpath?.up ?? []
        return Self.encodeJSON(RouterReport(mesh.status(), ipam: ipam?.status(), direct: sleeve.directPaths(),
                                            pathMTUs: sleeve.pathMTUs(), fastdp: up, sleeveReasons: sleeveReasons(up: up),
                                            dns: dnsReport(), version: Self.version))
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
        Gauge(label: "weft_fastdp_peers").record(fastpath?.up.count ?? 0)
        var text = registry?.emitToString() ?? ""
        var typed = Set<String>()
        for (name, labels, value) in sleeve.counters.snapshot {
            if typed.insert(name).inserted { text += "# TYPE \(name) counter\n" }
            let l = labels.isEmpty ? "" : "{" + labels.map { "\($0.0)=\"\($0.1)\"" }.joined(separator: ",") + "}"
            text += "\(name)\(l) \(value)\n"
        }
        return text
    }
}
