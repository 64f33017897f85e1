public import WeftCrypto
public import WeftTypes

/// A consistent picture of the mesh at one moment, for status output and the JSON report.
public struct MeshStatus: Sendable {
    /// One of this router's connections or connection attempts.
    public struct Connection: Sendable {
        public var peer: PeerName?
        public var nickname: String?
        public var address: String
        public var outbound: Bool
        /// `established`, `pending` or `failed`.
        public var state: String
        public var encrypted: Bool
        /// Why a failed attempt failed.
        public var info: String?
    }

    public var identity: PeerIdentity
    public var version: UInt64
    public var encrypted: Bool
    public var port: Int
    public var connLimit: Int
    public var discovery: Bool
    public var protocolRange: ClosedRange<UInt8>
    /// Every known peer, sorted by name.
    public var peers: [PeerEntry]
    public var unicast: [PeerName: PeerName]
    public var connections: [Connection]
    public var targets: [ConnectionTargets.Target]

    /// The nickname of `name` if the topology holds it.
    public func nickname(of name: PeerName) -> String? {
        peers.first { $0.name == name }?.nickname
    }
}

extension Mesh {
    /// The mesh's state now.
    public func status() -> MeshStatus {
        state.withLock { s in
            var connections: [MeshStatus.Connection] = s.live.values.map { live in
                MeshStatus.Connection(peer: live.summary.remote, nickname: live.connection.remote.nickname,
                                      address: live.summary.address, outbound: live.summary.outbound,
                                      state: "established", encrypted: live.connection.keys != nil, info: nil)
            }
            for origin in s.pending.values {
                connections.append(MeshStatus.Connection(
                    peer: nil, nickname: nil, address: origin.remoteAddress, outbound: origin.outbound,
                    state: "pending", encrypted: configuration.password != nil, info: nil))
            }
            for t in s.targets.targets.values where t.state == .failed && !t.permanent {
                connections.append(MeshStatus.Connection(
                    peer: t.peer, nickname: nil, address: t.address, outbound: true, state: "failed",
                    encrypted: configuration.password != nil, info: t.lastError))
            }
            connections.sort { ($0.state, $0.address) < ($1.state, $1.address) }
            return MeshStatus(
                identity: configuration.identity, version: s.node.topology.local.version,
                encrypted: configuration.password != nil, port: configuration.port,
                connLimit: configuration.connLimit, discovery: configuration.discovery,
                protocolRange: ProtocolHeader.ours.minVersion...ProtocolHeader.ours.maxVersion,
                peers: s.node.topology.peers.values.sorted { $0.name < $1.name },
                unicast: s.node.currentRoutes().unicast,
                connections: connections,
                targets: s.targets.targets.values.sorted { $0.address < $1.address })
        }
    }
}

/// A connected neighbour, as the data path needs it.
public struct MeshNeighbour: Sendable {
    public var name: PeerName
    /// The neighbour's underlay IP (of the TCP connection).
    public var host: String
    /// The session keys (nil without a password).
    public var keys: SessionKeys?
    /// What it supports (`sleeve`, `fastdp`).
    public var capabilities: [String]

    public init(name: PeerName, host: String, keys: SessionKeys? = nil, capabilities: [String]) {
        self.name = name
        self.host = host
        self.keys = keys
        self.capabilities = capabilities
    }
}

/// The mesh as a topology observer gets it after each change.
public struct MeshView: Sendable {
    /// Every peer with a unicast route (this router excluded).
    public var reachable: Set<PeerName>
    /// Every known peer's nickname (this router's included).
    public var nicknames: [PeerName: String]
    /// The neighbours with an established connection.
    public var neighbours: [MeshNeighbour]
    public var routes: Routes

    public init(reachable: Set<PeerName>, nicknames: [PeerName: String], neighbours: [MeshNeighbour], routes: Routes) {
        self.reachable = reachable
        self.nicknames = nicknames
        self.neighbours = neighbours
        self.routes = routes
    }
}
