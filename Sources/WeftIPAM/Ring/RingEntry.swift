import WeftMesh
public import WeftTypes

/// One token of the ring: the owner of the addresses from `token` up to the next token.
/// Only the owner changes an entry, and every change raises `version`, so the higher version
/// of the same token is always the later truth.
public struct RingEntry: Hashable, Sendable {
    /// First address of the range, as a 32-bit IPv4 value.
    public var token: UInt32
    public var owner: PeerName
    public var version: UInt32
    /// Addresses the owner reports free in this range (advisory: used to choose donors).
    public var free: UInt32

    public init(token: UInt32, owner: PeerName, version: UInt32, free: UInt32) {
        self.token = token
        self.owner = owner
        self.version = version
        self.free = free
    }

    /// The merge order of two entries for one token: version first; equal versions (only two
    /// administrators' concurrent take-overs make them) are ordered by free count, then owner,
    /// so every replica picks the same one.
    public func supersedes(_ other: RingEntry) -> Bool {
        (version, free, owner.rawValue) > (other.version, other.free, other.owner.rawValue)
    }
}
