import Testing
import WeftMesh
import WeftTesting

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
