import NIOCore
public import WeftCrypto

/// How a connection came to be, known before its handshake.
public struct ConnectionOrigin: Sendable, Hashable {
    /// True when we dialled.
    public var outbound: Bool
    /// The remote's `ip:port` as this side sees it.
    public var remoteAddress: String
    /// The target this dial serves (outbound only).
    public var target: String?
}

/// A connection whose handshake succeeded: who is at the other end and the keys of the session.
public final class EstablishedConnection: Sendable {
    public let origin: ConnectionOrigin
    public let remote: HandshakeFeatures
    /// Both ends compute the same value (the XOR of the two connection IDs); the lower one wins
    /// when two connections join the same pair of peers.
    public let connectionUID: UInt64
    /// The session keys when the mesh has a password (also the sleeve's data keys).
    public let keys: SessionKeys?
    public let version: UInt8
    let channel: any Channel

    init(origin: ConnectionOrigin, remote: HandshakeFeatures, connectionUID: UInt64, keys: SessionKeys?,
         version: UInt8, channel: any Channel) {
        self.origin = origin
        self.remote = remote
        self.connectionUID = connectionUID
        self.keys = keys
        self.version = version
        self.channel = channel
    }

    /// Queues a message; safe from any thread and under the mesh's lock: the write always runs
    /// later as a task on the channel's event loop, in the order of the calls, never inline
    /// (an inline write that fails would close the channel and call back into the mesh while
    /// it holds its lock).
    /// Queues messages, written one after the other and flushed once (one write to the socket
    /// for a burst rather than one each).
    func send(_ messages: [MeshMessage]) {
        let channel = self.channel
        channel.eventLoop.execute {
            for m in messages { channel.write(m, promise: nil) }
            channel.flush()
        }
    }

    /// Closes the connection.
    func close() {
        channel.close(promise: nil)
    }
}

/// What a connection reports to the mesh; called on the connection's event loop.
protocol PeerConnectionDelegate: AnyObject, Sendable {
    /// The handshake succeeded; return a reason to refuse the connection, or nil to accept it.
    func handshakeSucceeded(_ connection: EstablishedConnection) -> HandshakeFailure?
    /// The handshake failed, or the connection closed before it finished.
    func handshakeFailed(_ origin: ConnectionOrigin, failure: HandshakeFailure)
    /// A message arrived on an accepted connection.
    func received(_ message: MeshMessage, on connection: EstablishedConnection)
    /// A message could not be decoded (it is dropped).
    func rejected(_ connection: EstablishedConnection, reason: String)
    /// An accepted connection closed.
    func closed(_ connection: EstablishedConnection, reason: String)
}
