import Testing
@testable import WeftMesh
import WeftTypes

@Suite struct TopologyTests {
    static func name(_ i: Int) -> PeerName { PeerName(rawValue: UInt64(i)) }
    static func identity(_ i: Int, uid: UInt64 = 1) -> PeerIdentity {
        PeerIdentity(name: name(i), nickname: "p\(i)", uid: uid)
    }
    static func conn(_ to: Int) -> ConnectionSummary {
        ConnectionSummary(remote: name(to), address: "10.0.0.\(to):6783", outbound: true, established: true)
    }

    /// A peer's history of changes as the deltas it would gossip, plus its final whole entry.
    static func history(of i: Int, steps: [[Int]]) -> (deltas: [TopologyEntry], whole: TopologyEntry) {
        var t = Topology(local: identity(i))
        var deltas: [TopologyEntry] = []
        for s in steps { if let d = t.setLocalConnections(s.map(conn)) { deltas.append(d) } }
        return (deltas, t.local.fullUpdate)
    }

    /// Our own changes bump the version and produce a delta naming only what changed.
    @Test func localChangesProduceDeltas() throws {
        var t = Topology(local: Self.identity(1))
        let r1 = t.setLocalConnections([Self.conn(2)])
        let d1 = try #require(r1)
        #expect(d1.baseVersion == 1 && d1.version == 2 && d1.upserts.map(\.remote) == [Self.name(2)])
        #expect(t.setLocalConnections([Self.conn(2)]) == nil)
        let r2 = t.setLocalConnections([Self.conn(3)])
        let d2 = try #require(r2)
        #expect(d2.baseVersion == 2 && d2.upserts.map(\.remote) == [Self.name(3)] && d2.removals == [Self.name(2)])
    }

    /// Merging the same entries in any order, any number of times, gives the same topology.
    @Test func mergeIsOrderIndependentAndIdempotent() {
        let a = Self.history(of: 2, steps: [[1], [1, 3], [3], [3, 4]])
        let b = Self.history(of: 3, steps: [[1], [1, 2], [1, 2, 4]])
        let c = Self.history(of: 4, steps: [[2], [2, 3]])
        let all = a.deltas + [a.whole] + b.deltas + [b.whole] + c.deltas + [c.whole]
        var rng = SplitMix64(seed: 42)
        var reference: Topology?
        for _ in 0..<200 {
            var t = Topology(local: Self.identity(1))
            _ = t.setLocalConnections([Self.conn(2), Self.conn(3)])
            // Random order, some entries twice; the whole entries guarantee completeness.
            var updates = all.shuffled(using: &rng)
            updates += updates.prefix(5)
            for u in updates { _ = t.merge([u]) }
            _ = t.merge(all.shuffled(using: &rng))
            if let reference { #expect(t.peers == reference.peers) } else { reference = t }
        }
        #expect(reference?.peers[Self.name(2)]?.connections.keys.sorted() == [Self.name(3), Self.name(4)])
        #expect(reference?.peers[Self.name(3)]?.version == 4)
    }

    /// Deltas in sequence apply; a delta whose base we lack asks for the whole entry.
    @Test func deltasApplyInSequenceAndGapsAskForWhole() {
        let h = Self.history(of: 2, steps: [[1], [1, 3], [1, 3, 4]])
        var t = Topology(local: Self.identity(1))
        _ = t.setLocalConnections([Self.conn(2)])
        #expect(t.merge([h.deltas[0]]).behind.map(\.name) == [Self.name(2)])  // unknown peer: need whole
        _ = t.merge([h.whole])
        #expect(t.peers[Self.name(2)]?.version == 4)
        // An old delta changes nothing.
        #expect(t.merge([h.deltas[1]]).changed.isEmpty)

        var u = Topology(local: Self.identity(1))
        let first = Self.history(of: 2, steps: [[1]])
        _ = u.merge([first.whole])
        let result = u.merge([h.deltas[2]])  // base 3, we hold 2
        #expect(result.behind.map(\.name) == [Self.name(2)])
        #expect(u.merge([h.deltas[1]]).changed.count == 1)
        #expect(u.merge([h.deltas[2]]).changed.count == 1)
        #expect(u.peers[Self.name(2)] == t.peers[Self.name(2)])
    }

    /// A report of ourselves from an earlier incarnation moves our version past it.
    @Test func staleSelfIsOvertaken() {
        var t = Topology(local: Self.identity(1, uid: 2))
        var old = Topology(local: Self.identity(1, uid: 1))
        for k in 2...6 { _ = old.setLocalConnections(Array(2...k).map(Self.conn)) }
        let result = t.merge([old.local.fullUpdate])
        #expect(result.localBumped)
        #expect(t.local.version == old.local.version + 1)
        #expect(t.local.uid == 2)
    }

    /// A restarted peer (new UID) replaces the old entry once proven live.
    @Test func restartedPeerReplacesOldEntry() {
        var t = Topology(local: Self.identity(1))
        _ = t.setLocalConnections([Self.conn(2)])
        var old = Topology(local: Self.identity(2, uid: 1))
        for k in 3...8 { _ = old.setLocalConnections(Array(3...k).map(Self.conn)) }
        _ = t.merge([old.local.fullUpdate])
        var new = Topology(local: Self.identity(2, uid: 9))
        _ = new.setLocalConnections([Self.conn(1)])
        #expect(t.merge([new.local.fullUpdate]).changed.isEmpty)  // lower version: not newer
        t.noteIncarnation(of: Self.name(2), uid: 9)
        _ = t.merge([new.local.fullUpdate])
        #expect(t.peers[Self.name(2)]?.uid == 9)
    }

    /// Peers we can no longer reach over any reported connection are removed.
    @Test func garbageCollection() {
        var t = Topology(local: Self.identity(1))
        _ = t.setLocalConnections([Self.conn(2)])
        _ = t.merge([Self.history(of: 2, steps: [[1, 3]]).whole, Self.history(of: 3, steps: [[2]]).whole,
                     Self.history(of: 4, steps: [[5]]).whole])
        #expect(t.garbageCollect() == [Self.name(4)])
        _ = t.setLocalConnections([])
        #expect(Set(t.garbageCollect()) == [Self.name(2), Self.name(3)])
        #expect(t.peers.count == 1)
    }

    /// Digests find exactly what each side lacks.
    @Test func digestDifference() {
        var a = Topology(local: Self.identity(1))
        var b = Topology(local: Self.identity(2))
        _ = a.setLocalConnections([Self.conn(2)])
        _ = b.setLocalConnections([Self.conn(1), Self.conn(3)])
        let (theyNeed, weNeed) = a.difference(from: b.digest())
        #expect(theyNeed.map(\.name) == [Self.name(1)])
        #expect(weNeed.map(\.name) == [Self.name(2)])
    }
}
