import Foundation
import Logging
import Metrics
import NIOCore
import WeftMesh
import WeftSleeve

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
        RouterConfiguration.announcesFastpath(configuration.options, password: configuration.mesh.password != nil)
    }

    static func makeMACDirectory(configuration: RouterConfiguration, mesh: Mesh, loop: any EventLoop) -> MACDirectoryChannel {
        MACDirectoryChannel(me: configuration.mesh.identity.name) { message in
            loop.execute { mesh.gossip(channel: "macs", payload: message) }
        }
    }

    /// Announces the MACs of this host: its bridge and every attached container.
    func announceMACs() {
        let macs = host.list().compactMap { MAC(text: $0.mac) } + [MAC.bridge(of: configuration.mesh.identity.name)]
        macDirectory.setLocal(Set(macs))
    }

    /// Probes, then programs the tables for what the probes and the directory say.
    func fastpathTick() {
        guard let fastpath else { return }
        let view = mesh.dataPathView()
        let mtus = sleeve.pathMTUs()
        var candidates: [PeerName: UInt32] = [:]
        let clear: Set<PeerName>? = configuration.mesh.password == nil ? nil : sleeve.clearPaths()
        for n in view.neighbours where n.capabilities.contains("fastdp") && clear?.contains(n.name) != false {
            // A VXLAN datagram is 22 bytes of headers and the frame's payload: the path must carry it.
            guard let address = IPv4.parse(n.host), (mtus[n.name] ?? 0) >= configuration.options.mtu + 22 else { continue }
            candidates[n.name] = address
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

extension MAC {
    /// Parses `aa:bb:cc:dd:ee:ff`.
    init?(text: String) {
        guard let name = PeerName(text), text.split(separator: ":").count == 6 else { return nil }
        self.init(rawValue: name.rawValue)
    }
}
