public import NIOCore
public import WeftTypes

/// How a gossip channel sends, bound to its name once (`Mesh.sender(channel:)`): no channel
/// names its wire name at each send, and none can call back into the mesh while the mesh is
/// calling it (the mesh's sender runs every send on an event loop, in order).
public struct GossipSender: Sendable {
    /// The channel's name on the wire.
    public let channel: String
    private let gossipAction: @Sendable (ByteBuffer) -> Void
    private let unicastAction: @Sendable (PeerName, ByteBuffer) -> Void
    private let broadcastAction: @Sendable (ByteBuffer) -> Void

    /// A sender from three actions (the mesh's; or a test's, which records them).
    public init(channel: String, gossip: @escaping @Sendable (ByteBuffer) -> Void,
                unicast: @escaping @Sendable (PeerName, ByteBuffer) -> Void,
                broadcast: @escaping @Sendable (ByteBuffer) -> Void) {
        self.channel = channel
        gossipAction = gossip
        unicastAction = unicast
        broadcastAction = broadcast
    }

    /// Gossips `payload` to a random subset of neighbours (it spreads from there).
    public func gossip(_ payload: ByteBuffer) { gossipAction(payload) }

    /// Sends `payload` to `peer` along unicast routes (dropped when it is unreachable).
    public func unicast(_ payload: ByteBuffer, to peer: PeerName) { unicastAction(peer, payload) }

    /// Broadcasts `payload` to every reachable peer.
    public func broadcast(_ payload: ByteBuffer) { broadcastAction(payload) }
}
