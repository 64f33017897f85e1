public import Logging
import Metrics
import Synchronization
public import WeftMesh
public import WeftTypes

/// Both data paths of one router and the host plumbing they need: the bridge and its capture
/// pair (`HostBridge`), the sleeve (pcap ⇄ UDP), and, unless off, the fast path (the kernel's
/// VXLAN device, its probes, and the `macs` directory its entries come from). The router wires
/// it: it hands in the mesh's neighbours and routes on every topology change, calls `tick()`
/// each second, registers `macDirectory` as a gossip channel, and reads `status()`.
public final class DataPath: Sendable {
    public struct Configuration: Sendable {
        public var me: PeerName
        /// The UDP port of the sleeve (the mesh's port).
        public var port: Int
        /// The overlay MTU.
        public var mtu: Int
        /// The mesh has a password: the sleeve seals.
        public var sealed: Bool
        /// `--trusted-subnets`: peers there may get frames unsealed (both ways trusting).
        public var trusted: [Subnet]
        /// Unless `--no-fastdp`.
        public var fastdp: Bool
        /// This CPU has AES-NI: seal with AES-256-GCM towards peers that announce it too.
        public var aes: Bool
        /// See `HostBridge.Configuration.serviceAddress`.
        public var serviceAddress: UInt32?

        public init(me: PeerName, port: Int, mtu: Int, sealed: Bool, trusted: [Subnet], fastdp: Bool, aes: Bool,
                    serviceAddress: UInt32?) {
            self.me = me
            self.port = port
            self.mtu = mtu
            self.sealed = sealed
            self.trusted = trusted
            self.fastdp = fastdp
            self.aes = aes
            self.serviceAddress = serviceAddress
        }

        /// Whether the fast path runs: unless `--no-fastdp`; with a password only for trusted
        /// subnets (the kernel's VXLAN does not encrypt, and a password must never leave other
        /// frames in clear: docs/fastpath.md).
        public var runsFastpath: Bool { Self.runsFastpath(fastdp: fastdp, sealed: sealed, trusted: trusted) }

        /// The same rule, for the capabilities a router announces before its data path exists.
        public static func runsFastpath(fastdp: Bool, sealed: Bool, trusted: [Subnet]) -> Bool {
            fastdp && (!sealed || !trusted.isEmpty)
        }
    }

    /// The capability a router announces when its CPU has AES-NI and PCLMUL.
    public static let aesCapability = "aes256gcm"

    public let configuration: Configuration
    public let bridge: HostBridge
    /// The nftables rules: UDP 6784 from the fast path's peers only, the service address for
    /// DNS only.
    public let firewall: HostFirewall
    /// Which MACs are behind which peer: the `macs` gossip channel.
    public let macDirectory: MACDirectoryChannel
    let sleeve: Sleeve
    let fastpath: Fastpath?
    /// The neighbours as the last topology change gave them.
    private let neighbours = Mutex<[MeshNeighbour]>([])
    private let logger: Logger

    /// Sets up the bridge, the capture pair and (unless off) a fresh VXLAN device, and opens
    /// the sleeve's and the probes' sockets; `start()` starts their threads. `macs` is the
    /// sender of the `macs` channel.
    public init(configuration: Configuration, logger: Logger, macs: GossipSender) throws(DataPathError) {
        self.configuration = configuration
        self.logger = logger
        bridge = try HostBridge(configuration: .init(mtu: configuration.mtu, bridgeMAC: MAC.bridge(of: configuration.me),
                                                     serviceAddress: configuration.serviceAddress), logger: logger)
        try bridge.setUp()
        do {
            sleeve = try Sleeve(configuration: .init(me: configuration.me, port: configuration.port,
                                                     interface: HostBridge.capturePort, mtu: configuration.mtu,
                                                     sealed: configuration.sealed,
                                                     trusted: configuration.trusted.map { ($0.start, UInt64($0.start) + $0.size) }),
                                logger: logger)
        } catch { throw DataPathError("\(error)") }
        macDirectory = MACDirectoryChannel(me: configuration.me, sender: macs)
        firewall = try HostFirewall(vxlanPort: configuration.runsFastpath ? Fastpath.port : nil,
                                    serviceAddress: configuration.serviceAddress, bridge: HostBridge.bridge, logger: logger)
        if configuration.runsFastpath {
            try bridge.setUpVXLAN()
            do {
                fastpath = try Fastpath(me: configuration.me, bridge: HostBridge.bridge, mtu: configuration.mtu, logger: logger)
            } catch { throw DataPathError("\(error)") }
        } else {
            bridge.removeVXLAN()
            fastpath = nil
        }
    }

    public func start() {
        sleeve.start()
        fastpath?.start()
    }

    /// Stops the threads (the kernel objects stay: a restart finds them).
    public func stop() {
        sleeve.stop()
        fastpath?.stop()
    }

    /// Stops and removes every kernel object, the given containers' links with them (reset).
    public func tearDown(containerLinks: [String]) {
        stop()  // the fast path's capture is on a device this removes
        bridge.tearDown(containerLinks: containerLinks)
        firewall.remove()
    }

    /// Takes in the mesh's neighbours (underlay address, session keys, capabilities) and
    /// routes. The sleeve seals with AES-256-GCM towards neighbours that, like this router,
    /// have AES-NI.
    public func update(neighbours: [MeshNeighbour], routes: Routes) {
        var paths: [PeerName: Sleeve.Neighbour] = [:]
        for n in neighbours {
            guard let address = IPv4.parse(n.host) else { continue }
            let aes = configuration.aes && n.capabilities.contains(Self.aesCapability)
            paths[n.name] = Sleeve.Neighbour(address: address, port: configuration.port,
                                             keys: aes ? n.keys?.withUDPCipher(.aes256GCM) : n.keys)
        }
        sleeve.update(neighbours: paths, routes: routes)
        self.neighbours.withLock { $0 = neighbours }
    }

    /// Announces the MACs of this host: its bridge's and the given containers'.
    public func announce(containerMACs: Set<MAC>) {
        macDirectory.setLocal(containerMACs.union([MAC.bridge(of: configuration.me)]))
    }

    /// Each second: the sleeve's heartbeats, then the fast path's probes, and the VXLAN and
    /// bridge tables programmed for what the probes and the directory say (a MAC announced
    /// lately is programmed within that second; until then its frames flood to the sleeve,
    /// which delivers them). With `everyone` false, steady paths are left out (`DataPlane.tick`).
    public func tick(everyone: Bool) {
        sleeve.tick(everyone: everyone)
        guard let fastpath else { return }
        let candidates = FastpathPlan.candidates(verdicts())
        firewall.allow(Set(candidates.values))
        fastpath.update(candidates: Set(candidates.keys))
        program(candidates: candidates, up: fastpath.up)
        let changes = fastpath.tick(everyone: everyone)
        for (peer, up) in changes {
            logger.notice("fastpath: \(peer) \(up ? "now on fastdp" : "back on sleeve")")
            Counter(label: "weft_fastdp_transitions_total", dimensions: [("to", up ? "fastdp" : "sleeve")]).increment()
        }
        if !changes.isEmpty { program(candidates: candidates, up: fastpath.up) }
    }

    private func verdicts() -> [PeerName: FastpathPlan.Verdict] {
        FastpathPlan.verdicts(neighbours.withLock { $0 }, pathMTUs: sleeve.pathMTUs(),
                              clear: configuration.sealed ? sleeve.clearPaths() : nil, mtu: configuration.mtu)
    }

    private func program(candidates: [PeerName: UInt32], up: Set<PeerName>) {
        bridge.program(FastpathPlan.entries(candidates: candidates, up: up, directory: macDirectory.entries))
    }

    /// Per neighbour: whether the sleeve's direct path works, its path MTU, whether it is on
    /// the fast path, and if not why; read together so they agree.
    public func status() -> DataPathStatus {
        let up = fastpath?.up ?? []
        let reasons: [PeerName: String]
        if fastpath == nil {
            let why = !configuration.fastdp ? "the fast path is off on this host"
                : "a password without trusted subnets: every frame sealed, by the sleeve"
            reasons = Dictionary(neighbours.withLock { $0 }.map { ($0.name, why) }, uniquingKeysWith: { a, _ in a })
        } else {
            reasons = FastpathPlan.sleeveReasons(verdicts(), up: up)
        }
        return DataPathStatus(fastpath: fastpath != nil, direct: sleeve.directPaths(), pathMTUs: sleeve.pathMTUs(),
                              fastdp: up, sleeveReasons: reasons)
    }

    /// The sleeve's counters, as Prometheus series.
    public var counters: [(name: String, labels: [(String, String)], value: Int)] {
        sleeve.counters.snapshot + firewall.dropped().map { ("weft_firewall_dropped_total", [("rule", $0.rule)], $0.packets) }
    }
}

/// What the data path says about each neighbour (`DataPath.status()`).
public struct DataPathStatus: Sendable, Equatable {
    /// The fast path runs on this host.
    public var fastpath: Bool
    /// Whether the sleeve's direct UDP path to each neighbour works (else frames are relayed).
    public var direct: [PeerName: Bool]
    /// The largest datagram the underlay carries to each neighbour.
    public var pathMTUs: [PeerName: Int]
    /// The peers on the fast path now.
    public var fastdp: Set<PeerName>
    /// Why each neighbour not on the fast path is on the sleeve.
    public var sleeveReasons: [PeerName: String]

    public init(fastpath: Bool, direct: [PeerName: Bool] = [:], pathMTUs: [PeerName: Int] = [:], fastdp: Set<PeerName> = [],
                sleeveReasons: [PeerName: String] = [:]) {
        self.fastpath = fastpath
        self.direct = direct
        self.pathMTUs = pathMTUs
        self.fastdp = fastdp
        self.sleeveReasons = sleeveReasons
    }
}
