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

    var version: String
    var router: Router
    var peers: [Peer]
    var connections: [Connection]
    var targets: [Target]
    var routes: Routes

    init(_ s: MeshStatus, version: String) {
        self.version = version
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
            Connection(peer: c.peer.map { "\($0)" }, nickname: c.nickname, address: c.address, outbound: c.outbound,
                       state: c.state, datapath: "sleeve", encrypted: c.encrypted, info: c.info)
        }
        targets = s.targets.map { t in
            Target(address: t.address, kind: t.kind.rawValue, state: t.state.rawValue, peer: t.peer.map { "\($0)" },
                   attempts: t.attempts, lastError: t.lastError)
        }
        routes = Routes(unicast: Dictionary(uniqueKeysWithValues: s.unicast.map { ("\($0.key)", "\($0.value)") }))
    }
}
