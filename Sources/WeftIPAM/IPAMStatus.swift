import WeftMesh
public import WeftTypes

/// IPAM at one moment, for `weft status ipam` and the report.
public struct IPAMStatus: Sendable {
    /// One owner's share of the ring.
    public struct Owner: Sendable {
        public var name: PeerName
        public var nickname: String?
        public var owned: UInt64
        public var free: UInt64
        public var reachable: Bool
    }

    public var range: String
    public var mode: String
    /// True once the ring is divided.
    public var ready: Bool
    /// "ready", or what IPAM waits for.
    public var state: String
    /// Addresses allocated by this router.
    public var allocated: Int
    public var seeds: [PeerName]
    public var owners: [Owner]
    /// Peers whose ring was refused, with the reason.
    public var conflicts: [(PeerName, String)]

    init(_ core: Allocator, reachable: Set<PeerName>) {
        range = core.range.description
        mode = core.mode.description
        ready = core.isReady
        state = core.isReady ? "ready" : core.agreementStatus
        allocated = core.allocatedCount
        seeds = core.ring.seeds
        var owned: [PeerName: (UInt64, UInt64)] = [:]
        for i in core.ring.entries.indices {
            let e = core.ring.entries[i]
            let (o, f) = owned[e.owner] ?? (0, 0)
            owned[e.owner] = (o + core.ring.rangeSize(at: i), f + UInt64(e.free))
        }
        owners = owned.sorted { $0.key < $1.key }.map { name, counts in
            // Our own count is exact; others' are what they last reported.
            Owner(name: name, nickname: core.nicknames[name], owned: counts.0,
                  free: name == core.me ? counts.0 - UInt64(core.allocatedCount) : counts.1,
                  reachable: name == core.me || reachable.contains(name))
        }
        conflicts = core.conflicts.sorted { $0.key < $1.key }.map { ($0.key, $0.value.reason) }
    }
}
