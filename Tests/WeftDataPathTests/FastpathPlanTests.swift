import Testing
import WeftDataPath
import WeftMesh
import WeftTypes

/// The fast path's pure decisions, hand-checked: who is probed, why the others stay on the
/// sleeve, and the VXLAN and bridge entries.
@Suite struct FastpathPlanTests {
    static let b = PeerName(rawValue: 0x0200_0000_000B), c = PeerName(rawValue: 0x0200_0000_000C)
    static let addressB = IPv4.parse("198.18.0.2")!, addressC = IPv4.parse("198.18.0.3")!
    static let web = MAC(rawValue: 0x0200_0000_0A01), db = MAC(rawValue: 0x0200_0000_0A02)

    static func neighbour(_ name: PeerName, _ host: String, fastdp: Bool = true) -> MeshNeighbour {
        MeshNeighbour(name: name, host: host, capabilities: fastdp ? ["sleeve", "fastdp"] : ["sleeve"])
    }

    /// A new peer with the fast path and a path that carries full frames is a candidate.
    @Test func newPeerIsCandidate() {
        let v = FastpathPlan.verdicts([Self.neighbour(Self.b, "198.18.0.2")], pathMTUs: [Self.b: 1472], clear: nil, mtu: 1376)
        #expect(v == [Self.b: .candidate(Self.addressB)])
        #expect(FastpathPlan.candidates(v) == [Self.b: Self.addressB])
    }

    /// Each reason to stay on the sleeve says what to change.
    @Test func exclusions() {
        let neighbours = [Self.neighbour(Self.b, "198.18.0.2", fastdp: false), Self.neighbour(Self.c, "198.18.0.3")]
        let v = FastpathPlan.verdicts(neighbours, pathMTUs: [Self.b: 1472, Self.c: 1390], clear: nil, mtu: 1376)
        #expect(v[Self.b] == .excluded("the peer has no fast path (launched without it, or a password without trusted subnets)"))
        #expect(v[Self.c] == .excluded("the underlay path carries 1390-byte datagrams, full frames need 1398 (lower --mtu)"))
        // With a password, only peers whose frames go in clear anyway.
        let sealed = FastpathPlan.verdicts([Self.neighbour(Self.c, "198.18.0.3")], pathMTUs: [Self.c: 1472], clear: [], mtu: 1376)
        #expect(sealed[Self.c] == .excluded("with a password, only peers trusting each other's subnets use the fast path"))
        let v6 = FastpathPlan.verdicts([Self.neighbour(Self.c, "fd00::3")], pathMTUs: [Self.c: 1472], clear: nil, mtu: 1376)
        #expect(v6[Self.c] == .excluded("no IPv4 underlay address"))
    }

    /// A candidate whose probes are blocked stays on the sleeve, and says so; its bridge MAC
    /// is still programmed (so probes can reach it) but nothing is pinned.
    @Test func blockedProbe() {
        let v: [PeerName: FastpathPlan.Verdict] = [Self.b: .candidate(Self.addressB)]
        #expect(FastpathPlan.sleeveReasons(v, up: []) == [Self.b: "no answer to probes on UDP 6784 both ways (blocked, or just starting)"])
        #expect(FastpathPlan.sleeveReasons(v, up: [Self.b]).isEmpty)
        let entries = FastpathPlan.entries(candidates: [Self.b: Self.addressB], up: [],
                                           directory: [Self.b: .init(version: 1, macs: [Self.web])])
        #expect(entries == TunnelEntries(remote: [MAC.bridge(of: Self.b): Self.addressB], pinned: []))
    }

    /// Once a peer is up, all its MACs (and its bridge's) point at it and are pinned.
    @Test func upPeerIsProgrammed() {
        let entries = FastpathPlan.entries(candidates: [Self.b: Self.addressB], up: [Self.b],
                                           directory: [Self.b: .init(version: 1, macs: [Self.web, Self.db])])
        let bridge = MAC.bridge(of: Self.b)
        #expect(entries.remote == [bridge: Self.addressB, Self.web: Self.addressB, Self.db: Self.addressB])
        #expect(entries.pinned == [bridge, Self.web, Self.db])
    }

    /// A MAC that moved follows the newer announcement: to the new peer when it is on the fast
    /// path, else out of the tables (the sleeve carries it), never left at the old peer.
    @Test func movedMAC() {
        let directory: [PeerName: MACDirectory.Entry] = [Self.b: .init(version: 1, macs: [Self.web]),
                                                          Self.c: .init(version: 2, macs: [Self.web])]
        let both = FastpathPlan.entries(candidates: [Self.b: Self.addressB, Self.c: Self.addressC], up: [Self.b, Self.c],
                                        directory: directory)
        #expect(both.remote[Self.web] == Self.addressC && both.pinned.contains(Self.web))
        let onlyOld = FastpathPlan.entries(candidates: [Self.b: Self.addressB, Self.c: Self.addressC], up: [Self.b],
                                           directory: directory)
        #expect(onlyOld.remote[Self.web] == nil && !onlyOld.pinned.contains(Self.web))
    }

    /// A peer that leaves (no longer a neighbour, so no candidate) takes all its entries along.
    @Test func peerLeaves() {
        let directory: [PeerName: MACDirectory.Entry] = [Self.b: .init(version: 1, macs: [Self.web])]
        let before = FastpathPlan.entries(candidates: [Self.b: Self.addressB], up: [Self.b], directory: directory)
        #expect(!before.remote.isEmpty)
        let after = FastpathPlan.entries(candidates: [:], up: [Self.b], directory: directory)
        #expect(after == TunnelEntries())
    }

    /// The fast path runs unless off, and with a password only for trusted subnets.
    @Test func runsFastpath() {
        let trusted = [Subnet("198.18.0.0/24")!]
        #expect(DataPath.Configuration.runsFastpath(fastdp: true, sealed: false, trusted: []))
        #expect(!DataPath.Configuration.runsFastpath(fastdp: true, sealed: true, trusted: []))
        #expect(DataPath.Configuration.runsFastpath(fastdp: true, sealed: true, trusted: trusted))
        #expect(!DataPath.Configuration.runsFastpath(fastdp: false, sealed: false, trusted: trusted))
    }
}
