import NIOCore
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

    static func summary(_ remote: Int) -> ConnectionSummary {
        ConnectionSummary(remote: name(remote), address: "10.0.0.\(remote):6783", outbound: true, established: true)
    }

    static func entry(_ i: Int, version: UInt64, base: UInt64 = 0, links: [Int]) -> TopologyEntry {
        TopologyEntry(name: name(i), nickname: "p\(i)", uid: 1, version: version, baseVersion: base,
                      upserts: links.map(summary), removals: [])
    }

    static func update(_ entries: [TopologyEntry], from source: Int) -> MeshMessage {
        var payload = ByteBuffer()
        TopologyMessage.update(entries).encode(into: &payload)
        return .gossip(channel: MeshNode.topologyChannel, source: name(source), payload: payload)
    }

    /// Topology messages in `sends` to `peer`, decoded.
    static func topologyTo(_ peer: Int, in sends: [(to: PeerName, message: MeshMessage)]) -> [TopologyMessage] {
        sends.compactMap { send in
            guard send.to == name(peer), case let .gossip(channel, _, payload) = send.message,
                  channel == MeshNode.topologyChannel else { return nil }
            var copy = payload
            return try? TopologyMessage.decode(&copy)
        }
    }

    /// Peer 5, a neighbour of 9, passes 9's change on to no neighbour that a smaller-named
    /// neighbour of 9 (peer 2) reports a connection to, even before that neighbour's own entry
    /// (peer 7, just joined) reached it: 2 passes it on. (Before, every neighbour of 9 sent it to
    /// 7: a router rejoining a busy mesh of 50 took in up to 2.5 times a fresh join's bytes.)
    @Test func aJoinerWhoseEntryIsLateHearsAChangeOnce() {
        var node = MeshNode(identity: PeerIdentity(name: Self.name(5), nickname: "p5", uid: 1), seed: 1)
        for peer in [9, 2, 7] { _ = node.connectionUp(Self.summary(peer), remoteUID: 1) }
        _ = node.receive(Self.update([Self.entry(9, version: 3, links: [5, 2]), Self.entry(2, version: 3, links: [9, 5, 7])], from: 9),
                         from: Self.name(9))
        _ = node.flush()
        _ = node.receive(Self.update([Self.entry(9, version: 4, base: 3, links: [11])], from: 9), from: Self.name(9))
        let sends = node.flush().sends
        #expect(Self.topologyTo(7, in: sends).isEmpty, "\(sends)")
        #expect(Self.topologyTo(2, in: sends).isEmpty)
    }

    /// Deltas from two neighbours that show the same gap (we hold version 3, they bring 5..6)
    /// ask only the first for what changed since; once it is gone, the next gap asks again.
    @Test func aGapIsAskedOfOneNeighbour() {
        var node = MeshNode(identity: PeerIdentity(name: Self.name(5), nickname: "p5", uid: 1), seed: 1)
        for peer in [2, 3, 9] { _ = node.connectionUp(Self.summary(peer), remoteUID: 1) }
        _ = node.receive(Self.update([Self.entry(9, version: 3, links: [5, 2, 3])], from: 9), from: Self.name(9))
        _ = node.flush()
        let gap = Self.update([Self.entry(9, version: 6, base: 5, links: [11])], from: 9)
        func requests(_ out: MeshNode.Output, to peer: Int) -> [[PeerVersion]] {
            Self.topologyTo(peer, in: out.sends).compactMap { if case let .request(held) = $0 { held } else { nil } }
        }
        #expect(requests(node.receive(gap, from: Self.name(2)), to: 2) == [[PeerVersion(name: Self.name(9), uid: 1, version: 3)]])
        #expect(requests(node.receive(gap, from: Self.name(3)), to: 3).isEmpty)
        _ = node.connectionDown(Self.name(2))
        #expect(requests(node.receive(gap, from: Self.name(3)), to: 3).count == 1)
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
