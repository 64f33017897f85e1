public import NIOCore
public import WeftTypes

/// A subsystem that shares state through the mesh (IPAM, DNS; topology is built in).
///
/// Each channel's state merges: `mergeGossip` folds in what a neighbour sent and returns only
/// what was new, which the mesh gossips onward; `completeState` is sent whole every 30 s and to
/// every new neighbour. Unicast and broadcast messages are routed through peers by the mesh.
/// The mesh calls these methods one at a time (under its lock); a channel sends through the
/// `GossipSender` the mesh gave it, which never runs inside these calls.
public protocol GossipChannel: AnyObject, Sendable {
    /// The channel's name on the wire (at most 64 bytes).
    var name: String { get }
    /// The complete state, in messages of at most about 64 KiB each.
    func completeState() -> [ByteBuffer]
    /// Merges gossip from a neighbour and returns the part that was new to us, or nil.
    func mergeGossip(_ payload: ByteBuffer, from sender: PeerName) throws -> ByteBuffer?
    /// Receives a message addressed to this peer.
    func receiveUnicast(_ payload: ByteBuffer, from source: PeerName) throws
    /// Receives a broadcast (the mesh relays it down the source's tree whatever this returns).
    func receiveBroadcast(_ payload: ByteBuffer, from source: PeerName) throws
}
