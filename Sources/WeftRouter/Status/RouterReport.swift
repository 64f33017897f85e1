import WeftIPAM
import WeftMesh

/// The JSON of `GET /report` (and `weft report`, `weft status … --json`). Keys are a contract:
/// docs/api.md lists them; add keys, never rename them.
struct RouterReport: Encodable {
    struct Router: Encodable {
        var name: String
        var nickname: String
        var uid: String
        var version: UInt64
        var `protocol`: String
        var protocolMinVersion: UInt8
        var protocolMaxVersion: UInt8
        var encryption: Bool
        var peerDiscovery: Bool
        var connLimit: Int
        var port: Int
    }

    struct PeerConnection: Encodable {
        var name: String
        var nickname: String?
        var address: String
        var outbound: Bool
        var established: Bool
    }

    struct Peer: Encodable {
        var name: String
        var nickname: String
        var uid: String
        var version: UInt64
        var connections: [PeerConnection]
    }

    struct Connection: Encodable {
        var peer: String?
        var nickname: String?
        var address: String
        var outbound: Bool
        var state: String
        var datapath: String
        /// On the sleeve: why not the fast path.
        var datapathReason: String?
        /// Whether the direct UDP path to this peer works (else frames go through a relay).
        var direct: Bool?
        /// The largest datagram the underlay carries to this peer, as probing found it.
        var pathMTU: Int?
        var encrypted: Bool
        var info: String?
    }

    struct Target: Encodable {
        var address: String
        var kind: String
        var state: String
        var peer: String?
        var attempts: Int
        var lastError: String?
    }

    struct Routes: Encodable {
        var unicast: [String: String]
    }

    /// The `ipam` key: the range, how it is divided, and what this router handed out.
    struct IPAM: Encodable {
        struct Owner: Encodable {
            var name: String
            var nickname: String?
            var owned: UInt64
            var free: UInt64
            var reachable: Bool
        }

        struct Conflict: Encodable {
            var peer: String
            var reason: String
        }

        var range: String
        var mode: String
        var ready: Bool
        var state: String
        var allocated: Int
        var seeds: [String]
        var peers: [Owner]
        var conflicts: [Conflict]

        init(_ s: IPAMStatus) {
            range = s.range
            mode = s.mode
            ready = s.ready
            state = s.state
            allocated = s.allocated
            seeds = s.seeds.map(\.description)
            peers = s.owners.map { Owner(name: "\($0.name)", nickname: $0.nickname, owned: $0.owned, free: $0.free,
                                         reachable: $0.reachable) }
            conflicts = s.conflicts.map { Conflict(peer: "\($0.0)", reason: $0.1) }
        }
    }

    /// The `dns` key: where the server answers, and every live record.
    struct DNS: Encodable {
        struct Entry: Encodable {
            var hostname: String
            var address: String
            var origin: String
            var containerID: String
            var version: UInt64
        }

        var domain: String
        var address: String
        var ttl: UInt32
        var upstream: [String]
        var entries: [Entry]
    }

    var version: String
    var router: Router
    var peers: [Peer]
    var connections: [Connection]
    var targets: [Target]
    var routes: Routes
    /// Absent when IPAM is off.
    var ipam: IPAM?
    /// Absent when DNS is off.
    var dns: DNS?

    init(_ s: MeshStatus, ipam: IPAMStatus?, direct: [PeerName: Bool], pathMTUs: [PeerName: Int], fastdp: Set<PeerName>,
         sleeveReasons: [PeerName: String], dns: DNS?, version: String) {
        self.version = version
        self.dns = dns
        self.ipam = ipam.map(IPAM.init)
        router = Router(
            name: "\(s.identity.name)", nickname: s.identity.nickname, uid: String(s.identity.uid),
            version: s.version, protocol: "weft", protocolMinVersion: s.protocolRange.lowerBound,
            protocolMaxVersion: s.protocolRange.upperBound, encryption: s.encrypted,
            peerDiscovery: s.discovery, connLimit: s.connLimit, port: s.port)
        peers = s.peers.map { p in
            Peer(name: "\(p.name)", nickname: p.nickname, uid: String(p.uid), version: p.version,
                 connections: p.connections.values.sorted { $0.remote < $1.remote }.map { c in
                     PeerConnection(name: "\(c.remote)", nickname: s.nickname(of: c.remote), address: c.address,
                                    outbound: c.outbound, established: c.established)
                 })
        }
        connections = s.connections.map { c in
            let onFastpath = c.peer.map(fastdp.contains) == true
            return Connection(peer: c.peer.map { "\($0)" }, nickname: c.nickname, address: c.address, outbound: c.outbound,
                              state: c.state, datapath: onFastpath ? "fastdp" : "sleeve",
                              datapathReason: onFastpath || c.state != "established" ? nil : c.peer.flatMap { sleeveReasons[$0] },
                              direct: c.peer.flatMap { direct[$0] }, pathMTU: c.peer.flatMap { pathMTUs[$0] },
                              encrypted: c.encrypted, info: c.info)
        }
        targets = s.targets.map { t in
            Target(address: t.address, kind: t.kind.rawValue, state: t.state.rawValue, peer: t.peer.map { "\($0)" },
                   attempts: t.attempts, lastError: t.lastError)
        }
        routes = Routes(unicast: Dictionary(uniqueKeysWithValues: s.unicast.map { ("\($0.key)", "\($0.value)") }))
    }
}
