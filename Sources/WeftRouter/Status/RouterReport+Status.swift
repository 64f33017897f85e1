import WeftAPI
import WeftDataPath
import WeftIPAM
import WeftMesh
import WeftTypes

/// The report the router serves, built from the mesh's status and the services' (the types
/// are the API contract's, in WeftAPI).
extension RouterReport {
    init(_ s: MeshStatus, ipam: IPAMStatus?, dataPath path: DataPathStatus, dns: DNS?, version: String) {
        let router = Router(
            name: "\(s.identity.name)", nickname: s.identity.nickname, uid: String(s.identity.uid),
            version: s.version, protocol: "weft", protocolMinVersion: s.protocolRange.lowerBound,
            protocolMaxVersion: s.protocolRange.upperBound, encryption: s.encrypted,
            peerDiscovery: s.discovery, connLimit: s.connLimit, port: s.port)
        let peers = s.peers.map { p in
            Peer(name: "\(p.name)", nickname: p.nickname, uid: String(p.uid), version: p.version,
                 connections: p.connections.values.sorted { $0.remote < $1.remote }.map { c in
                     PeerConnection(name: "\(c.remote)", nickname: s.nickname(of: c.remote), address: c.address,
                                    outbound: c.outbound, established: c.established)
                 })
        }
        let connections = s.connections.map { c in
            let onFastpath = c.peer.map(path.fastdp.contains) == true
            return Connection(peer: c.peer.map { "\($0)" }, nickname: c.nickname, address: c.address, outbound: c.outbound,
                              state: c.state, datapath: onFastpath ? "fastdp" : "sleeve",
                              datapathReason: onFastpath || c.state != "established" ? nil : c.peer.flatMap { path.sleeveReasons[$0] },
                              direct: c.peer.flatMap { path.direct[$0] }, pathMTU: c.peer.flatMap { path.pathMTUs[$0] },
                              encrypted: c.encrypted, info: c.info)
        }
        let targets = s.targets.map { t in
            Target(address: t.address, kind: t.kind.rawValue, state: t.state.rawValue, peer: t.peer.map { "\($0)" },
                   attempts: t.attempts, lastError: t.lastError)
        }
        let routes = Routes(unicast: Dictionary(uniqueKeysWithValues: s.unicast.map { ("\($0.key)", "\($0.value)") }))
        self.init(version: version, router: router, peers: peers, connections: connections, targets: targets,
                  routes: routes, ipam: ipam.map(IPAM.init), dns: dns)
    }
}

extension RouterReport.IPAM {
    init(_ s: IPAMStatus) {
        self.init(range: s.range, mode: s.mode, ready: s.ready, state: s.state, allocated: s.allocated,
                  seeds: s.seeds.map(\.description),
                  peers: s.owners.map { Owner(name: "\($0.name)", nickname: $0.nickname, owned: $0.owned, free: $0.free,
                                              reachable: $0.reachable) },
                  conflicts: s.conflicts.map { Conflict(peer: "\($0.0)", reason: $0.1) })
    }
}
