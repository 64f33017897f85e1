import WeftMesh
public import WeftTypes

/// One name record: `hostname` → `address` for container `containerID`, owned by the peer
/// that registered it (`origin`, the only peer that ever changes it). `version` orders the
/// origin's changes to the record; a deletion is a tombstone with a higher version, so a stale
/// copy arriving later cannot bring the name back.
public struct DNSEntry: Hashable, Sendable {
    public var hostname: DNSName
    public var address: UInt32
    public var containerID: String
    public var origin: PeerName
    public var version: UInt64
    public var tombstone: Bool

    public init(hostname: DNSName, address: UInt32, containerID: String, origin: PeerName, version: UInt64, tombstone: Bool = false) {
        self.hostname = hostname
        self.address = address
        self.containerID = containerID
        self.origin = origin
        self.version = version
        self.tombstone = tombstone
    }

    /// What identifies a record across versions (the hostname compared case-insensitively).
    public struct Key: Hashable, Sendable {
        public var origin: PeerName
        public var containerID: String
        public var address: UInt32
        public var name: [UInt8]
    }

    public var key: Key { Key(origin: origin, containerID: containerID, address: address, name: hostname.lowercased.wire) }

    /// Whether this copy replaces `other` of the same key: a higher version, or at an equal
    /// version a tombstone over a live record (so merging is commutative).
    func supersedes(_ other: DNSEntry) -> Bool {
        version > other.version || (version == other.version && tombstone && !other.tombstone)
    }
}
