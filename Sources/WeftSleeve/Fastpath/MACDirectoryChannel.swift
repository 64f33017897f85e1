import Foundation
public import NIOCore
import Synchronization
public import WeftMesh
public import WeftTypes

/// The `macs` gossip channel: the `MACDirectory` behind a lock.
public final class MACDirectoryChannel: GossipChannel {
    public let name = "macs"
    private let directory: Mutex<MACDirectory>
    private let transport: @Sendable (ByteBuffer) -> Void

    /// `transport` gossips a message (and must not call back into the mesh synchronously).
    public init(me: PeerName, transport: @escaping @Sendable (ByteBuffer) -> Void) {
        directory = Mutex(MACDirectory(me: me))
        self.transport = transport
    }

    /// Announces this peer's MACs (when they changed).
    public func setLocal(_ macs: Set<MAC>) {
        let me = directory.withLock { $0.me }
        guard let entry = directory.withLock({ $0.setLocal(macs, now: Self.now()) }) else { return }
        transport(MACDirectory.encode([me: entry]))
    }

    /// The MACs and the version of every peer's entry.
    public var entries: [PeerName: MACDirectory.Entry] { directory.withLock { $0.entries } }

    /// Wall-clock seconds: versions follow the clock so a restarted peer outranks its past.
    static func now() -> Double { Date().timeIntervalSince1970 }

    // MARK: GossipChannel

    public func completeState() -> [ByteBuffer] {
        [MACDirectory.encode(directory.withLock { $0.entries })]
    }

    public func mergeGossip(_ payload: ByteBuffer, from sender: PeerName) throws -> ByteBuffer? {
        let incoming = try MACDirectory.decode(payload)
        let (new, correction) = directory.withLock { $0.merge(incoming) }
        if let correction { transport(MACDirectory.encode([directory.withLock { $0.me }: correction])) }
        guard !new.isEmpty else { return nil }
        return MACDirectory.encode(new)
    }

    public func receiveUnicast(_ payload: ByteBuffer, from source: PeerName) throws {
        _ = try mergeGossip(payload, from: source)
    }

    public func receiveBroadcast(_ payload: ByteBuffer, from source: PeerName) throws {
        _ = try mergeGossip(payload, from: source)
    }
}
