public import NIOCore
import Synchronization
public import WeftMesh
public import WeftTypes

/// A gossip channel whose state is a grow-only set of strings: the smallest CRDT, for testing
/// the mesh's channel plumbing (gossip merge, unicast and broadcast routing). It records every
/// unicast and broadcast it receives.
public final class GrowOnlySetChannel: GossipChannel {
    public let name: String
    private let state = Mutex(State())

    struct State {
        var items: Set<String> = []
        var unicasts: [(PeerName, String)] = []
        var broadcasts: [(PeerName, String)] = []
    }

    public init(name: String = "set") { self.name = name }

    public var items: Set<String> { state.withLock { $0.items } }
    public var unicasts: [(PeerName, String)] { state.withLock { $0.unicasts } }
    public var broadcasts: [(PeerName, String)] { state.withLock { $0.broadcasts } }

    /// Adds items locally and returns the payload to gossip.
    public func add(_ new: Set<String>) -> ByteBuffer {
        state.withLock { $0.items.formUnion(new) }
        return Self.encode(new)
    }

    public func completeState() -> [ByteBuffer] { [Self.encode(items)] }

    public func mergeGossip(_ payload: ByteBuffer, from sender: PeerName) throws -> ByteBuffer? {
        let incoming = try Self.decode(payload)
        let new = state.withLock { s in
            let new = incoming.subtracting(s.items)
            s.items.formUnion(new)
            return new
        }
        return new.isEmpty ? nil : Self.encode(new)
    }

    public func receiveUnicast(_ payload: ByteBuffer, from source: PeerName) throws {
        let text = String(buffer: payload)
        state.withLock { $0.unicasts.append((source, text)) }
    }

    public func receiveBroadcast(_ payload: ByteBuffer, from source: PeerName) throws {
        let text = String(buffer: payload)
        state.withLock { $0.broadcasts.append((source, text)) }
    }

    static func encode(_ items: Set<String>) -> ByteBuffer {
        var b = ByteBuffer()
        for item in items.sorted() { b.writeWireString(item) }
        return b
    }

    static func decode(_ payload: ByteBuffer) throws -> Set<String> {
        var b = payload
        var items: Set<String> = []
        while b.readableBytes > 0 { items.insert(try b.readWireString(field: "item")) }
        return items
    }
}
