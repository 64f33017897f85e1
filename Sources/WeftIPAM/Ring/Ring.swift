public import WeftMesh

/// The IPAM ring: the address range `[start, end)` split into ranges, each owned by one peer.
/// A CRDT: `merge` takes, per token, the entry with the higher version, so merging replicas in
/// any order, any number of times, gives the same ring. Safety rests on one rule the methods
/// keep: only a range's owner edits it (splits it, gives it away), raising the versions it
/// touches, so no replica can ever make two peers own one address.
public struct Ring: Hashable, Sendable {
    public let start: UInt32
    public let end: UInt32
    /// Sorted by token; empty until the range is first divided.
    public private(set) var entries: [RingEntry] = []

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
        return true
    }

    /// Merges another replica: per token, the higher version wins. Rings over another range
    /// are refused.
    @discardableResult
    public mutating func merge(_ other: Ring) -> Bool {
        guard other.start == start, other.end == end else { return false }
        var byToken = Dictionary(uniqueKeysWithValues: entries.map { ($0.token, $0) })
        var changed = false
        for e in other.entries {
            if let mine = byToken[e.token], mine.version >= e.version { continue }
            byToken[e.token] = e
            changed = true
        }
        if changed { entries = byToken.values.sorted { $0.token < $1.token } }
        return changed
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
    private func entryIndex(containing address: UInt32) -> Int? {
        guard !entries.isEmpty, address >= entries[0].token else { return nil }
        var lo = 0, hi = entries.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if entries[mid].token <= address { lo = mid + 1 } else { hi = mid }
        }
        return lo - 1
    }
}
