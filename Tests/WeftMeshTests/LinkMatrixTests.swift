import Testing
@testable import WeftMesh
import WeftTypes

/// The topology's link matrix against the entries it mirrors, over random changes of more
/// peers than one row word holds.
@Suite struct LinkMatrixTests {
    static func name(_ i: Int) -> PeerName { PeerName(rawValue: UInt64(i + 1)) }

    /// Routes as a breadth-first search over the entries themselves (each level in name order).
    static func referenceRoutes(_ t: Topology) -> [PeerName: PeerName] {
        var adjacency: [PeerName: [PeerName]] = [:]
        for (name, entry) in t.peers {
            adjacency[name] = entry.connections.values.filter { c in
                c.established && t.peers[c.remote]?.connections[name]?.established == true
            }.map(\.remote).sorted()
        }
        var hops: [PeerName: PeerName] = [:]
        var seen: Set<PeerName> = [t.localName]
        var queue = [(t.localName, t.localName)]
        var next = 0
        while next < queue.count {
            let (node, first) = queue[next]
            next += 1
            for other in adjacency[node] ?? [] where seen.insert(other).inserted {
                let hop = node == t.localName ? other : first
                hops[other] = hop
                queue.append((other, hop))
            }
        }
        return hops
    }

    static func check(_ t: Topology) {
        let links = t.links
        var named = Set(t.peers.keys)
        for (name, entry) in t.peers {
            guard let i = links.slot(of: name) else { Issue.record("no slot for \(name)"); return }
            #expect(links.hasEntry(i))
            #expect(links.links(of: i).map(\.nonzeroBitCount).reduce(0, +) == entry.connections.count)
            for remote in entry.connections.keys {
                named.insert(remote)
                #expect(links.slot(of: remote).map { links.isLinked(i, to: $0) } == true)
            }
        }
        // No slot outlives what names it.
        #expect(links.names.compactMap { $0 }.count == named.count)
        let reference = referenceRoutes(t)
        #expect(Routes(topology: t).unicast == reference)
        // Reachability without routes, for every slot (reached or not).
        if let me = links.slot(of: t.localName) {
            for (i, name) in links.names.enumerated() {
                guard let name, i != me else { continue }
                #expect(links.reaches(i, from: me) == (reference[name] != nil), "reaches \(name)")
            }
        }
    }

    @Test func followsRandomChanges() {
        var rng = SplitMix64(seed: 7)
        let count = 150
        var t = Topology(local: PeerIdentity(name: Self.name(0), nickname: "p0", uid: 1))
        var sources = (1..<count).map { Topology(local: PeerIdentity(name: Self.name($0), nickname: "p\($0)", uid: 1)) }
        func randomConnections(of i: Int) -> [ConnectionSummary] {
            // Peer 0 (ourselves) links to the first 40, the others to up to 60 of all: enough
            // links both ends report for routes of several hops.
            let degree = Int.random(in: i == 0 ? 30...60 : 0...60, using: &rng), pool = i == 0 ? 40 : count + 20
            return (0..<degree).map { _ in Int.random(in: 0..<pool, using: &rng) }.filter { $0 != i }.map {
                ConnectionSummary(remote: Self.name($0), address: "198.18.0.\($0 % 250):6783",
                                  outbound: Bool.random(using: &rng), established: Int.random(in: 0..<4, using: &rng) > 0)
            }
        }
        for step in 0..<600 {
            switch Int.random(in: 0..<10, using: &rng) {
            case 0:
                _ = t.setLocalConnections(randomConnections(of: 0))
            case 1:
                _ = t.garbageCollect()
            default:
                let i = Int.random(in: 1..<count, using: &rng)
                guard let delta = sources[i - 1].setLocalConnections(randomConnections(of: i)) else { continue }
                let whole = Int.random(in: 0..<5, using: &rng) == 0
                if !t.merge([whole ? sources[i - 1].local.fullUpdate : delta]).behind.isEmpty {
                    _ = t.merge([sources[i - 1].local.fullUpdate])
                }
            }
            if step % 10 == 0 { Self.check(t) }
        }
        Self.check(t)
        #expect(Self.referenceRoutes(t).count > 50)
        _ = t.setLocalConnections([])
        _ = t.garbageCollect()
        Self.check(t)
        #expect(t.peers.count == 1)
    }
}
