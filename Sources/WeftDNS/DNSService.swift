public import FoundationEssentials
import Glibc
public import Logging
public import NIOCore
import Synchronization
public import WeftMesh
public import WeftTypes

/// DNS in a running router: the record store behind one lock, registered with the mesh as the
/// `dns` gossip channel, this peer's own records persisted (so a restart re-announces them),
/// and the responder the server asks.
public final class DNSService: GossipChannel {
    /// The channel's name on the wire.
    public static let channel = "dns"
    public var name: String { Self.channel }

    public let responder: DNSResponder
    private let store: Mutex<DNSStore>
    private let rotation = Atomic<Int>(0)
    private let sender: GossipSender
    private let save: @Sendable (Data) throws -> Void
    private let logger: Logger

    /// `saved` is what `save` wrote last time (nil: nothing); throws when it is damaged.
    public init(me: PeerName, responder: DNSResponder, grace: Double, saved: Data?, sender: GossipSender,
                save: @escaping @Sendable (Data) throws -> Void, logger: Logger) throws {
        var store = DNSStore(me: me, grace: grace)
        if let saved {
            guard let list = try? JSONDecoder().decode([SavedEntry].self, from: saved) else {
                throw DNSServiceError("the saved DNS records are damaged")
            }
            store.restore(list.compactMap { $0.entry(origin: me) }, now: Self.now())
        }
        self.store = Mutex(store)
        self.responder = responder
        self.sender = sender
        self.save = save
        self.logger = logger
    }

    static func now() -> Double { Date().timeIntervalSince1970 }

    // MARK: this peer's records

    /// Registers `hostname` → `address` for `containerID` and gossips it. Returns false when it
    /// was already there.
    @discardableResult
    public func add(hostname: DNSName, address: UInt32, containerID: String) -> Bool {
        let added = store.withLock { $0.add(hostname: hostname, address: address, containerID: containerID, now: Self.now()) }
        guard let added else { return false }
        publish([added])
        return true
    }

    /// Deletes this peer's records of `containerID` (only `address` / `hostname` when given),
    /// gossiping tombstones. Returns how many went.
    @discardableResult
    public func remove(containerID: String, address: UInt32? = nil, hostname: DNSName? = nil) -> Int {
        let gone = store.withLock { $0.remove(containerID: containerID, address: address, hostname: hostname, now: Self.now()) }
        publish(gone)
        return gone.count
    }

    // MARK: reading

    /// The addresses of `name`.
    public func addresses(of name: DNSName) -> [UInt32] { store.withLock { $0.addresses(of: name) } }

    /// Live records, for status.
    public var entries: [DNSEntry] { store.withLock { $0.live } }

    /// What the server sends for `query`.
    public func answer(_ query: DNSMessage) -> DNSResponder.Outcome {
        let turn = rotation.add(1, ordering: .relaxed).newValue
        return store.withLock { responder.respond(to: query, store: $0, rotation: turn) }
    }

    // MARK: lifetimes

    /// Tells the store which peers are reachable now.
    public func updatePeers(reachable: Set<PeerName>) {
        store.withLock { $0.update(reachable: reachable, now: Self.now()) }
    }

    /// Forgets `peer`'s records at once (`rmpeer`).
    public func forget(_ peer: PeerName) {
        store.withLock { $0.forget(peer) }
    }

    /// Expires records every few seconds until the task is cancelled.
    public func run() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(5))  // throws only when cancelled: the loop ends
            let dropped = store.withLock { $0.expire(now: Self.now()) }
            if dropped > 0 { logger.info("DNS: dropped \(dropped) records of departed peers and old tombstones") }
        }
    }

    // MARK: GossipChannel

    public func completeState() -> [ByteBuffer] {
        DNSGossip.encode(store.withLock { $0.all })
    }

    public func mergeGossip(_ payload: ByteBuffer, from sender: PeerName) throws -> ByteBuffer? {
        let incoming = try DNSGossip.decode(payload)
        let (new, corrections) = store.withLock { $0.merge(incoming, now: Self.now()) }
        if !corrections.isEmpty { publish(corrections) }
        guard !new.isEmpty else { return nil }
        return DNSGossip.encode(new).first
    }

    public func receiveUnicast(_ payload: ByteBuffer, from source: PeerName) throws {
        _ = try mergeGossip(payload, from: source)
    }

    public func receiveBroadcast(_ payload: ByteBuffer, from source: PeerName) throws {
        _ = try mergeGossip(payload, from: source)
    }

    // MARK: internals

    /// Gossips changes of this peer's records and saves them.
    private func publish(_ changed: [DNSEntry]) {
        guard !changed.isEmpty else { return }
        for message in DNSGossip.encode(changed) { sender.gossip(message) }
        let own = store.withLock { $0.own }.map(SavedEntry.init)
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try save(try encoder.encode(own.sorted { ($0.hostname, $0.address) < ($1.hostname, $1.address) }))
        } catch {
            logger.error("DNS: cannot save this peer's records: \(error)")
        }
    }
}

/// A record as the state file keeps it: readable, with the exact name bytes beside the text.
private struct SavedEntry: Codable {
    var hostname: String
    var wire: String
    var address: String
    var containerID: String
    var version: UInt64
    var tombstone: Bool

    init(_ e: DNSEntry) {
        hostname = e.hostname.description
        wire = e.hostname.wire.hex
        address = IPv4.format(e.address)
        containerID = e.containerID
        version = e.version
        tombstone = e.tombstone
    }

    func entry(origin: PeerName) -> DNSEntry? {
        let bytes = stride(from: 0, to: wire.count - 1, by: 2).compactMap { i -> UInt8? in
            let start = wire.index(wire.startIndex, offsetBy: i)
            return UInt8(wire[start..<wire.index(start, offsetBy: 2)], radix: 16)
        }
        guard let name = DNSName(validatingWire: bytes), let a = IPv4.parse(address) else { return nil }
        return DNSEntry(hostname: name, address: a, containerID: containerID, origin: origin, version: version, tombstone: tombstone)
    }
}

/// A DNS service failure a user can act on.
public struct DNSServiceError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
