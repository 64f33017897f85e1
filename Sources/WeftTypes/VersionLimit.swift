/// The highest version (or Paxos round, or counter) a peer may send. Merges add one to
/// versions they receive (to outrank a stale entry, or to step past the highest seen), so a
/// version near `UInt64.max` from the wire would trap there, and a neighbour handing it back on
/// every reconnect would make the crash repeat. Decoders refuse anything above this; no honest
/// peer comes near it (a version per millisecond of the wall clock reaches 2^41 in 2040; one per
/// change would need 146 000 years at a million changes a second).
public enum VersionLimit {
    public static let maximum: UInt64 = 1 << 62

    /// True when `version` may come from a peer.
    @inlinable
    public static func accepts(_ version: UInt64) -> Bool { version <= maximum }
}
