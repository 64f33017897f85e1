public import WeftMesh
public import WeftTypes

/// The fast path's decisions, pure: which neighbours may be probed, why the others stay on the
/// sleeve, and the VXLAN and bridge entries that follow from the probes and the MAC directory.
/// `DataPath` feeds it what the mesh, the sleeve and the probes say, and programs the result.
public enum FastpathPlan {
    /// Whether a neighbour may be probed: a candidate (at its underlay address), or why not.
    public enum Verdict: Equatable, Sendable {
        case candidate(UInt32)
        case excluded(String)
    }

    /// The capability a router announces when it runs the fast path.
    public static let capability = "fastdp"
    /// A VXLAN datagram is the frame's payload and 22 bytes of headers (VXLAN 8, UDP 8,
    /// inner Ethernet 14, less the outer IP's 8 the path MTU already counts): the path must
    /// carry `mtu + 22`.
    public static let overhead = 22

    /// The verdict on each neighbour. `pathMTUs` are the sleeve's (datagram sizes found by
    /// probing); `clear` the neighbours whose frames go unsealed with a password (nil without
    /// one). The phrases are shown to users (status, report), so they say what to change.
    public static func verdicts(_ neighbours: [MeshNeighbour], pathMTUs: [PeerName: Int], clear: Set<PeerName>?,
                                mtu: Int) -> [PeerName: Verdict] {
        let needed = mtu + overhead
        func verdict(_ n: MeshNeighbour) -> Verdict {
            guard n.capabilities.contains(capability) else {
                return .excluded("the peer has no fast path (launched without it, or a password without trusted subnets)")
            }
            if clear?.contains(n.name) == false {
                return .excluded("with a password, only peers trusting each other's subnets use the fast path")
            }
            guard let address = IPv4.parse(n.host) else { return .excluded("no IPv4 underlay address") }
            let path = pathMTUs[n.name] ?? 0
            guard path >= needed else {
                return .excluded("the underlay path carries \(path)-byte datagrams, full frames need \(needed) (lower --mtu)")
            }
            return .candidate(address)
        }
        return Dictionary(neighbours.map { ($0.name, verdict($0)) }, uniquingKeysWith: { a, _ in a })
    }

    /// The candidates' underlay addresses.
    public static func candidates(_ verdicts: [PeerName: Verdict]) -> [PeerName: UInt32] {
        verdicts.compactMapValues { if case .candidate(let address) = $0 { address } else { nil } }
    }

    /// Why each neighbour not in `up` is on the sleeve.
    public static func sleeveReasons(_ verdicts: [PeerName: Verdict], up: Set<PeerName>) -> [PeerName: String] {
        verdicts.filter { !up.contains($0.key) }.mapValues { verdict in
            switch verdict {
            case .candidate: "no answer to probes on UDP 6784 both ways (blocked, or just starting)"
            case .excluded(let why): why
            }
        }
    }

    /// The entries to program: every candidate's bridge MAC at its underlay address (so probes
    /// reach it); for the peers the fast path works with (`up`), every MAC the directory puts
    /// behind them at their address, pinned to the VXLAN port. A MAC two peers announce
    /// belongs to the newer announcement (a container that moved), whether or not that peer is
    /// on the fast path: it is never left pointing at the peer it left.
    public static func entries(candidates: [PeerName: UInt32], up: Set<PeerName>,
                               directory: [PeerName: MACDirectory.Entry]) -> TunnelEntries {
        var owner: [MAC: PeerName] = [:]
        for (peer, entry) in directory.sorted(by: { ($0.value.version, $0.key) < ($1.value.version, $1.key) }) {
            for mac in entry.macs { owner[mac] = peer }
        }
        for peer in up { owner[MAC.bridge(of: peer)] = peer }
        var desired = TunnelEntries()
        for (peer, address) in candidates { desired.remote[MAC.bridge(of: peer)] = address }
        for (mac, peer) in owner where up.contains(peer) {
            guard let address = candidates[peer] else { continue }
            desired.remote[mac] = address
            desired.pinned.insert(mac)
        }
        return desired
    }
}
