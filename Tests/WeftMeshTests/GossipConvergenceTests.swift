import Testing
import WeftMesh
import WeftTesting
import WeftTypes

@Suite struct GossipConvergenceTests {
    static func name(_ i: Int) -> PeerName { PeerName(rawValue: UInt64(i)) }

    /// A chain where one end cannot reach the other directly still converges everywhere.
    @Test func partialMeshConverges() {
        var mesh = InMemoryMesh()
        for i in 1...5 { mesh.addPeer(Self.name(i)) }
        for i in 2...4 { mesh.connect(Self.name(i), Self.name(1)); mesh.run() }
        mesh.connect(Self.name(5), Self.name(2)); mesh.run()
        mesh.connect(Self.name(5), Self.name(3)); mesh.run()
        mesh.connect(Self.name(5), Self.name(4)); mesh.run()
        for (i, j) in [(2, 3), (2, 4), (3, 4)] { mesh.connect(Self.name(i), Self.name(j)); mesh.run() }
        #expect(mesh.converged)
        for node in mesh.nodes.values { #expect(node.topology.peers.count == 5) }
        let h1 = mesh.nodes[Self.name(1)]!
        let hop = h1.routes.unicast[Self.name(5)]
        #expect(hop != nil && hop != Self.name(5))
    }
}

extension GossipConvergenceTests {
    /// A full mesh formed one connection at a time converges, and stays converged when a
    /// connection drops and comes back.
    @Test func fullMeshFormsAndFollowsChanges() {
        var mesh = InMemoryMesh()
        for i in 1...10 { mesh.addPeer(Self.name(i)) }
        for a in 1..<10 { for b in (a + 1)...10 { mesh.connect(Self.name(a), Self.name(b)); mesh.step() } }
        mesh.run()
        #expect(mesh.converged)
        mesh.disconnect(Self.name(3), Self.name(7))
        mesh.run()
        #expect(mesh.converged)
        #expect(mesh.nodes[Self.name(1)]!.topology.peers[Self.name(3)]!.connections.count == 8)
        mesh.connect(Self.name(3), Self.name(7))
        mesh.run()
        #expect(mesh.converged)
    }

    /// Two halves that formed apart merge into one topology when a connection joins them, and
    /// a peer that leaves is removed everywhere.
    @Test func partitionsHealAndLeaversAreRemoved() {
        var mesh = InMemoryMesh()
        for i in 1...8 { mesh.addPeer(Self.name(i)) }
        for (a, b) in [(1, 2), (2, 3), (3, 4), (5, 6), (6, 7), (7, 8)] { mesh.connect(Self.name(a), Self.name(b)) }
        mesh.run()
        #expect(mesh.nodes[Self.name(1)]!.topology.peers.count == 4)
        mesh.connect(Self.name(4), Self.name(5))
        mesh.run()
        #expect(mesh.converged)
        #expect(mesh.nodes[Self.name(1)]!.topology.peers.count == 8)
        mesh.removePeer(Self.name(8))
        mesh.run()
        #expect(mesh.converged)
        #expect(mesh.nodes[Self.name(1)]!.topology.peers[Self.name(8)] == nil)
    }

    /// A peer that restarts (same name, new UID) replaces its old entry everywhere, even though
    /// its new version starts lower.
    @Test func restartedPeerReplacesItsOldSelf() {
        var mesh = InMemoryMesh()
        for i in 1...4 { mesh.addPeer(Self.name(i)) }
        for (a, b) in [(1, 2), (2, 3), (3, 4), (1, 3), (2, 4)] { mesh.connect(Self.name(a), Self.name(b)) }
        mesh.run()
        mesh.removePeer(Self.name(4))
        mesh.addPeer(Self.name(4), uid: 77)
        mesh.connect(Self.name(4), Self.name(1))
        mesh.run()
        #expect(mesh.converged)
        #expect(mesh.nodes[Self.name(2)]!.topology.peers[Self.name(4)]?.uid == 77)
    }
}
