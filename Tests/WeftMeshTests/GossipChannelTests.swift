import NIOCore
import Testing
import WeftMesh
import WeftTesting
import WeftTypes

/// The channel plumbing other subsystems (IPAM, DNS) build on, over a line of peers where most
/// pairs can only talk through others.
@Suite struct GossipChannelTests {
    static func name(_ i: Int) -> PeerName { PeerName(rawValue: UInt64(i)) }

    static func line(_ n: Int) -> (InMemoryMesh, [PeerName: GrowOnlySetChannel]) {
        var mesh = InMemoryMesh()
        var channels: [PeerName: GrowOnlySetChannel] = [:]
        for i in 1...n {
            mesh.addPeer(name(i))
            let c = GrowOnlySetChannel()
            channels[name(i)] = c
            mesh.register(c, on: name(i))
        }
        for i in 1..<n { mesh.connect(name(i), name(i + 1)) }
        mesh.run()
        return (mesh, channels)
    }

    /// State added on one peer and gossiped reaches every peer, relayed as deltas.
    @Test func gossipSpreadsState() {
        var (mesh, channels) = Self.line(6)
        mesh.gossip(from: Self.name(1), channel: "set", payload: channels[Self.name(1)]!.add(["a"]))
        mesh.gossip(from: Self.name(6), channel: "set", payload: channels[Self.name(6)]!.add(["b"]))
        mesh.run()
        for c in channels.values { #expect(c.items == ["a", "b"]) }
    }

    /// A unicast travels hop by hop to its destination only.
    @Test func unicastIsRoutedThroughPeers() {
        var (mesh, channels) = Self.line(5)
        mesh.unicast(from: Self.name(1), to: Self.name(5), channel: "set", payload: ByteBuffer(string: "hi"))
        mesh.run()
        #expect(channels[Self.name(5)]!.unicasts.map(\.1) == ["hi"])
        #expect(channels[Self.name(5)]!.unicasts.first?.0 == Self.name(1))
        for i in 1...4 { #expect(channels[Self.name(i)]!.unicasts.isEmpty) }
    }

    /// A broadcast reaches every other peer exactly once.
    @Test func broadcastReachesEveryoneOnce() {
        var (mesh, channels) = Self.line(5)
        mesh.connect(Self.name(1), Self.name(3))
        mesh.connect(Self.name(2), Self.name(5))
        mesh.run()
        mesh.broadcast(from: Self.name(3), channel: "set", payload: ByteBuffer(string: "all"))
        mesh.run()
        for i in [1, 2, 4, 5] { #expect(channels[Self.name(i)]!.broadcasts.map(\.1) == ["all"]) }
        #expect(channels[Self.name(3)]!.broadcasts.isEmpty)
    }

    /// A new peer receives the channel's complete state when it connects.
    @Test func newPeerGetsCompleteState() {
        var (mesh, channels) = Self.line(3)
        mesh.gossip(from: Self.name(2), channel: "set", payload: channels[Self.name(2)]!.add(["x", "y"]))
        mesh.run()
        mesh.addPeer(Self.name(9))
        let late = GrowOnlySetChannel()
        mesh.register(late, on: Self.name(9))
        mesh.connect(Self.name(9), Self.name(3))
        mesh.run()
        #expect(late.items == ["x", "y"])
    }
}
