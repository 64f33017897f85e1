import Foundation
import Logging
import Metrics
import NIOCore
import WeftMesh
import WeftSleeve
import WeftTypes

/// The fast path's wiring: the `macs` channel announces this host's MACs, each second the
/// neighbours that have the fast path are probed, and the VXLAN and bridge tables follow the
/// probes and the directory (a MAC announced lately is programmed within that second; until
/// then its frames flood to the sleeve, which delivers them).
extension Router {
    /// The fast path runs unless `--no-fastdp`. With a password only towards peers whose frames
    /// may go in clear anyway (`--trusted-subnets`, both ends trusting each other): the kernel's
    /// VXLAN does not encrypt, and a password must never leave other frames in clear
    /// (docs/fastpath.md).
    static func fastpathWanted(_ configuration: RouterConfiguration) -> Bool {
        configuration.settings.fastpathWanted(password: configuration.mesh.password != nil)
    }

    static func makeMACDirectory(configuration: RouterConfiguration, mesh: Mesh, loop: any EventLoop) -> MACDirectoryChannel {
        MACDirectoryChannel(me: configuration.mesh.identity.name) { message in
            loop.execute { mesh.gossip(channel: "macs", payload: message) }
        }
    }

    /// Announces the MACs of this host: its bridge and every attached container.
    func announceMACs() {
        let macs = host.list().compactMap { MAC($0.mac) } + [MAC.bridge(of: configuration.mesh.identity.name)]
        macDirectory.setLocal(Set(macs))
    }

    /// Whether a neighbour may be probed: a candidate (at its underlay address), or why not.
    enum FastpathVerdict {
        case candidate(UInt32)
        case excluded(String)
    }

    /// The verdict on each neighbour. The phrases are shown to users (status, report), so they
    /// say what to change.
    func fastpathVerdicts(_ neighbours: [MeshNeighbour]) -> [PeerName: FastpathVerdict] {
        let mtus = sleeve.pathMTUs()
        let clear: Set<PeerName>? = configuration.mesh.password == nil ? nil : sleeve.clearPaths()
        // A VXLAN datagram is 22 bytes of headers and the frame's payload: the path must carry it.
        let needed = configuration.settings.mtu + 22
        func verdict(_ n: MeshNeighbour) -> FastpathVerdict {
            guard n.capabilities.contains("fastdp") else {
                return .excluded("the peer has no fast path (launched without it, or a password without trusted subnets)")
            }
            if clear?.contains(n.name) == false {
                return .excluded("with a password, only peers trusting each other's subnets use the fast path")
            }
            guard let address = IPv4.parse(n.host) else { return .excluded("no IPv4 underlay address") }
            let mtu = mtus[n.name] ?? 0
            guard mtu >= needed else {
                return .excluded("the underlay path carries \(mtu)-byte datagrams, full frames need \(needed) (lower --mtu)")
            }
            return .candidate(address)
        }
        return Dictionary(neighbours.map { ($0.name, verdict($0)) }, uniquingKeysWith: { a, _ in a })
    }

    /// Why each neighbour not in `up` (the fast path's peers, as the caller read them for the
    /// same status) is not on the fast path.
    func sleeveReasons(up: Set<PeerName>) -> [PeerName: String] {
        let neighbours = mesh.dataPathView().neighbours
        guard fastpath != nil else {
            let why = !configuration.settings.fastdp ? "the fast path is off on this host"
                : "a password without trusted subnets: every frame sealed, by the sleeve"
            return Dictionary(neighbours.map { ($0.name, why) }, uniquingKeysWith: { a, _ in a })
        }
        return fastpathVerdicts(neighbours).filter { !up.contains($0.key) }.mapValues { verdict in
            switch verdict {
            case .candidate: "no answer to probes on UDP 6784 both ways (blocked, or just starting)"
            case .excluded(let why): why
            }
        }
    }

    /// Probes, then programs the tables for what the probes and the directory say.
    func fastpathTick() {
        guard let fastpath else { return }
        var candidates: [PeerName: UInt32] = [:]
        for (peer, verdict) in fastpathVerdicts(mesh.dataPathView().neighbours) {
            if case .candidate(let address) = verdict { candidates[peer] = address }
        }
        fastpath.update(candidates: Set(candidates.keys))
        programFastpath(fastpath, candidates: candidates)
        let changes = fastpath.tick()
        for (peer, up) in changes {
            logger.notice("fastpath: \(peer) \(up ? "now on fastdp" : "back on sleeve")")
            Counter(label: "weft_fastdp_transitions_total", dimensions: [("to", up ? "fastdp" : "sleeve")]).increment()
        }
        if !changes.isEmpty { programFastpath(fastpath, candidates: candidates) }
    }

    /// Programs the VXLAN table (every candidate's bridge MAC at its underlay address, so probes
    /// reach it; every MAC of the peers the fast path works with) and pins those peers' MACs to
    /// the VXLAN port.
    private func programFastpath(_ fastpath: Fastpath, candidates: [PeerName: UInt32]) {
        let up = fastpath.up
        var desired = TunnelEntries()
        for (peer, address) in candidates { desired.remote[MAC.bridge(of: peer)] = address }
        // A MAC that moved between peers follows the newer announcement.
        for (peer, entry) in macDirectory.entries.sorted(by: { $0.value.version < $1.value.version }) where up.contains(peer) {
            guard let address = candidates[peer] else { continue }
            for mac in entry.macs.union([MAC.bridge(of: peer)]) {
                desired.remote[mac] = address
                desired.pinned.insert(mac)
            }
        }
        host.program(desired)
    }
}
