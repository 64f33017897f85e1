import FoundationEssentials
import Glibc
public import NIOCore
import Synchronization
public import WeftMesh
public import WeftTypes

/// The `macs` gossip channel: the `MACDirectory` behind a lock.
public final class MACDirectoryChannel: GossipChannel {
    /// The channel's name on the wire.
    public static let channel = "macs"
    public var name: String { Self.channel }
    private let directory: Mutex<MACDirectory>
    private let sender: GossipSender

    /// `sender` is the `macs` channel's (`Mesh.sender(channel: MACDirectoryChannel.channel)`).
    public init(me: PeerName, sender: GossipSender) {
        directory = Mutex(MACDirectory(me: me))
        self.sender = sender
    }

    /// Announces this peer's MACs (when they changed).
    public func setLocal(_ macs: Set<MAC>) {
        let me = directory.withLock { $0.me }
        guard let entry = directory.withLock({ $0.setLocal(macs, now: Self.now()) }) else { return }
        sender.gossip(MACDirectory.encode([me: entry]))
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
        if let correction { self.sender.gossip(MACDirectory.encode([directory.withLock { $0.me }: correction])) }
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
