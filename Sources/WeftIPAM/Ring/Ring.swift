import WeftMesh
public import WeftTypes

/// The IPAM ring: the address range `[start, end)` split into ranges, each owned by one peer.
/// A CRDT: `merge` takes, per token, the greater entry (version, then free count, then owner),
/// so merging replicas in any order, any number of times, gives the same ring. Safety rests on
/// one rule the methods keep: only a range's owner edits it (splits it, gives it away), raising
/// the versions it touches, so no replica can ever make two peers own one address. The one
/// exception is `transfer`, the administrator's take-over of a dead peer's ranges.
public struct Ring: Hashable, Sendable {
    public let start: UInt32
    public let end: UInt32
    /// Sorted by token; empty until the range is first divided.
    public internal(set) var entries: [RingEntry] = []
    /// The peers the range was first divided among, sorted: the ring's identity. Rings with
    /// other seeds were made by another agreement and never merge with this one.
    public internal(set) var seeds: [PeerName] = []

    /// A ring over `[start, end)` that nobody owns yet.
    public init(start: UInt32, end: UInt32) {
        precondition(start < end, "empty range")
        self.start = start
        self.end = end
    }

    /// The first division: the range split into `peers.count` nearly equal parts, in name order
    /// (the first token is `start`, and stays so: only the first range's owner could move it).
    /// Every peer that agreed on the same peer set computes the same ring.
    public init(start: UInt32, end: UInt32, dividedAmong peers: [PeerName]) {
        self.init(start: start, end: end)
        let size = UInt64(end - start)
        // More peers than addresses: the surplus (last by name) gets nothing.
        let owners = Array(Array(Set(peers)).sorted().prefix(Int(min(UInt64(peers.count), size))))
        guard !owners.isEmpty else { return }
        seeds = owners
        entries = owners.indices.map { i in
            let from = UInt64(start) + size * UInt64(i) / UInt64(owners.count)
            let to = UInt64(start) + size * UInt64(i + 1) / UInt64(owners.count)
            return RingEntry(token: UInt32(from), owner: owners[i], version: 1, free: UInt32(to - from))
        }
    }

    /// True once the range has been divided.
    public var isDivided: Bool { !entries.isEmpty }

    /// The owner of `address`, or nil if the ring is not divided or the address is outside.
    public func owner(of address: UInt32) -> PeerName? {
        guard address >= start, address < end, let i = entryIndex(containing: address) else { return nil }
        return entries[i].owner
    }

    /// The ranges `peer` owns, as `[from, to)` pairs in address order.
    public func ranges(ownedBy peer: PeerName) -> [(from: UInt32, to: UInt32)] {
        entries.indices.compactMap { i in
            guard entries[i].owner == peer else { return nil }
            return (entries[i].token, i + 1 < entries.count ? entries[i + 1].token : end)
        }
    }

    /// Number of addresses `peer` owns.
    public func ownedCount(_ peer: PeerName) -> UInt64 {
        ranges(ownedBy: peer).reduce(0) { $0 + UInt64($1.to - $1.from) }
    }

    /// Gives `[from, to)` to `recipient`. Only `giver`'s own replica may do this, and only for
    /// addresses `giver` owns entirely; returns false (and changes nothing) otherwise.
    @discardableResult
    public mutating func give(from: UInt32, to: UInt32, to recipient: PeerName, by giver: PeerName) -> Bool {
        guard from < to, from >= start, to <= end, recipient != giver,
              ranges(ownedBy: giver).contains(where: { $0.from <= from && to <= $0.to }) else { return false }
        // What follows the gift stays the giver's: a token must start it.
        if to < end, !entries.contains(where: { $0.token == to }) { setEntry(token: to, owner: giver, free: 0) }
        setEntry(token: from, owner: recipient, free: to - from)
        // Tokens inside the gift (from earlier splits) go with it.
        for i in entries.indices where entries[i].token > from && entries[i].token < to {
            entries[i].owner = recipient
            entries[i].version += 1
        }
        // The giver's range below the gift shrank: its free count cannot exceed its size.
        for i in entries.indices where entries[i].owner == giver && UInt64(entries[i].free) > rangeSize(at: i) {
            entries[i].free = UInt32(rangeSize(at: i))
            entries[i].version += 1
        }
        return true
    }

    /// Merges another replica: per token, the greater entry wins. An undivided ring takes the
    /// other whole; rings over another range or with other seeds are refused. Returns true when
    /// anything changed.
    @discardableResult
    public mutating func merge(_ other: Ring) throws(RingError) -> Bool {
        guard other.start == start, other.end == end else { throw .differentRange }
        guard other.isDivided else { return false }
        guard isDivided else {
            self = other
            return true
        }
        guard other.seeds == seeds else { throw .differentSeeds(mine: seeds, theirs: other.seeds) }
        var byToken = Dictionary(uniqueKeysWithValues: entries.map { ($0.token, $0) })
        var changed = false
        for e in other.entries {
            if let mine = byToken[e.token], !e.supersedes(mine) { continue }
            byToken[e.token] = e
            changed = true
        }
        if changed { entries = byToken.values.sorted { $0.token < $1.token } }
        return changed
    }

    /// The administrator's take-over: every range `dead` owns becomes `heir`'s, all free.
    /// Returns how many addresses moved. Safe only when `dead` is gone for good (its own
    /// replica would otherwise keep handing out addresses from them), which the caller checks.
    public mutating func transfer(from dead: PeerName, to heir: PeerName) -> UInt64 {
        var moved: UInt64 = 0
        for i in entries.indices where entries[i].owner == dead {
            let size = rangeSize(at: i)
            entries[i].owner = heir
            entries[i].version += 1
            entries[i].free = UInt32(size)
            moved += size
        }
        return moved
    }

    /// Records how many addresses `owner` has free in each of its ranges (keyed by token),
    /// raising the version of each entry whose count changed. Other peers' entries are ignored.
    /// Returns true when anything changed.
    @discardableResult
    public mutating func report(free counts: [UInt32: UInt32], by owner: PeerName) -> Bool {
        var changed = false
        for i in entries.indices where entries[i].owner == owner {
            guard let free = counts[entries[i].token], free != entries[i].free else { continue }
            entries[i].free = free
            entries[i].version += 1
            changed = true
        }
        return changed
    }

    /// Addresses in the range starting at entry `i`.
    public func rangeSize(at i: Int) -> UInt64 {
        UInt64(i + 1 < entries.count ? entries[i + 1].token : end) - UInt64(entries[i].token)
    }

    /// True when, as far as this replica knows, no address of the ring is in use.
    public var isUnused: Bool {
        entries.indices.allSatisfy { UInt64(entries[$0].free) == rangeSize(at: $0) }
    }

    // MARK: internals

    /// Sets the entry at `token` (inserting it if new), raising its version.
    private mutating func setEntry(token: UInt32, owner: PeerName, free: UInt32) {
        if let i = entries.firstIndex(where: { $0.token == token }) {
            entries[i].owner = owner
            entries[i].version += 1
            entries[i].free = free
        } else {
            entries.append(RingEntry(token: token, owner: owner, version: 1, free: free))
            entries.sort { $0.token < $1.token }
        }
    }

    /// The entry whose range holds `address`: the last token at or below it. (The first token
    /// is always `start`, so the ring never wraps.)
    func entryIndex(containing address: UInt32) -> Int? {
        guard !entries.isEmpty, address >= entries[0].token else { return nil }
        var lo = 0, hi = entries.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if entries[mid].token <= address { lo = mid + 1 } else { hi = mid }
        }
        return lo - 1
    }
}
