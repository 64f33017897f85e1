import Testing
import WeftMesh
import WeftTesting
import WeftTypes

/// What gossip costs: each peer hears of a change about once, and a neighbour that holds an
/// older entry gets what changed since, not the whole entry.
@Suite struct GossipCostTests {
    static func name(_ i: Int) -> PeerName { PeerName(rawValue: UInt64(i)) }

    static func fullMesh(_ n: Int) -> InMemoryMesh {
        var mesh = InMemoryMesh()
        for i in 1...n { mesh.addPeer(name(i)) }
        for a in 1..<n { for b in (a + 1)...n { mesh.connect(name(a), name(b)); mesh.run() } }
        return mesh
    }

    /// In a full mesh a dropped connection changes two entries: every other peer hears each
    /// once, from its owner, and the two ends hear each other's once, relayed by one peer.
    @Test func aChangeReachesEveryPeerOnce() {
        var mesh = Self.fullMesh(12)
        mesh.resetCounters()
        mesh.disconnect(Self.name(3), Self.name(7))
        mesh.run()
        #expect(mesh.converged)
        for (peer, byOrigin) in mesh.entriesReceived {
            let expected = peer == Self.name(3) || peer == Self.name(7) ? 1 : 2
            #expect(byOrigin.values.reduce(0, +) == expected, "\(peer): \(byOrigin)")
        }
        #expect(mesh.entriesReceived.count == 12)
    }

    /// In a partial mesh where some peers are three hops from a change (a ring of 24 with
    /// chords to the peer 6 further on: no full mesh, no common neighbour with either end of
    /// most links), a dropped connection still reaches each peer about once per changed entry:
    /// relays further than one hop from the origin pass it on along one breadth-first tree
    /// instead of from every neighbour (up to a peer's whole degree before).
    @Test func aChangeCrossesAPartialMeshOnce() {
        var mesh = InMemoryMesh()
        let n = 24
        for i in 1...n { mesh.addPeer(Self.name(i)) }
        for i in 1...n {
            mesh.connect(Self.name(i), Self.name(i % n + 1))
            mesh.connect(Self.name(i), Self.name((i + 5) % n + 1))
            mesh.run()
        }
        #expect(mesh.converged)
        mesh.resetCounters()
        mesh.disconnect(Self.name(1), Self.name(2))
        mesh.run()
        #expect(mesh.converged)
        var total = 0
        for (peer, byOrigin) in mesh.entriesReceived {
            for (origin, count) in byOrigin {
                #expect(count <= 2, "\(peer) heard \(origin)'s change \(count) times")
                total += count
            }
        }
        // Two changed entries, each to the other 23 peers: 46 is the least.
        #expect(total <= 52, "\(total) entries received")
    }

    /// A peer joining with five connections at once is caught up by the first; the others'
    /// answers carry only what changed meanwhile, so it hears each entry about once, and each
    /// neighbour's (which changes as it joins) a few times (without the one-after-the-other
    /// catch-up it would hear all ten from each of the five).
    @Test func aJoinerIsCaughtUpOnce() {
        var mesh = Self.fullMesh(10)
        mesh.resetCounters()
        mesh.addPeer(Self.name(11))
        for j in [2, 4, 6, 8, 10] { mesh.connect(Self.name(11), Self.name(j)) }
        mesh.run()
        #expect(mesh.converged)
        let joiner = mesh.entriesReceived[Self.name(11)] ?? [:]
        #expect(joiner.count == 10)
        for (origin, count) in joiner {
            #expect(count <= ([2, 4, 6, 8, 10].map(Self.name).contains(origin) ? 3 : 1), "\(origin): \(count)")
        }
    }

    /// A delta from any version this peer has held brings that version to the current one,
    /// through connections added, changed and removed (and tombstones pruned on the way).
    @Test func deltasFromEveryEarlierVersion() {
        var rng = SplitMix64(seed: 7)
        var own = Topology(local: PeerIdentity(name: Self.name(1), nickname: "p1", uid: 1))
        var connections: [PeerName: ConnectionSummary] = [:]
        var history = [own.local]
        for _ in 0..<400 {
            let remote = Self.name(Int.random(in: 2...120, using: &rng))
            if connections[remote] != nil, Bool.random(using: &rng) {
                connections[remote] = nil
            } else {
                connections[remote] = ConnectionSummary(remote: remote, address: "10.0.0.\(Int.random(in: 1...9, using: &rng)):6783",
                                                        outbound: Bool.random(using: &rng), established: true)
            }
            if own.setLocalConnections(Array(connections.values)) != nil { history.append(own.local) }
        }
        let current = own.local
        var deltas = 0
        for old in history.dropLast() {
            let update = current.update(from: old.version)
            if !update.isFull { deltas += 1 }
            var holder = Topology(local: PeerIdentity(name: Self.name(999), nickname: "p999", uid: 1))
            _ = holder.merge([old.fullUpdate])
            _ = holder.merge([update])
            #expect(holder.peers[Self.name(1)] == current, "from version \(old.version)")
        }
        #expect(deltas > 0)
    }
}
