public import WeftTypes

/// Who reports a connection to whom, kept beside the topology as bit rows over peer slots, so
/// that what every flush and publish asks (how far a peer is from another, who is linked to
/// whom, who is still reachable, the routes) costs word operations, not dictionary lookups.
///
/// Row `i` has bit `j` when peer `i`'s entry reports a connection to peer `j` (`linked`), and
/// an established one (`established`). Every peer that has an entry or is named in one has a
/// slot; a slot is freed when neither holds any more. The topology updates it with every entry
/// it stores or drops, by the entry's delta where it has one.
public struct LinkMatrix: Sendable {
    /// The peer in each slot (nil: free).
    public private(set) var names: [PeerName?] = []
    private var slots: [PeerName: Int] = [:]
    private var free: [Int] = []
    /// Slots whose peer has an entry, and per slot how many rows name it (plus one for its
    /// own entry): at zero it is freed.
    private var entries: [Bool] = []
    private var references: [Int] = []
    /// 64-bit words per row.
    public private(set) var words = 0
    private var linked: [UInt64] = []
    private var established: [UInt64] = []

    public init() {}

    /// A set of slots, as one row's worth of words.
    public typealias Slots = [UInt64]

    public func slot(of name: PeerName) -> Int? { slots[name] }

    /// True when the peer in slot `i` has an entry (a row of its own).
    public func hasEntry(_ i: Int) -> Bool { entries[i] }

    public func isLinked(_ i: Int, to j: Int) -> Bool { linked[i * words + j >> 6] >> UInt64(j & 63) & 1 != 0 }

    /// An empty set of slots.
    public var none: Slots { Slots(repeating: 0, count: words) }

    /// The slots row `i` reports links to.
    public func links(of i: Int) -> Slots { Array(linked[i * words..<(i + 1) * words]) }

    /// True when row `i` links to a slot of `set`.
    public func linksAny(_ i: Int, of set: Slots) -> Bool {
        for w in 0..<words where linked[i * words + w] & set[w] != 0 { return true }
        return false
    }

    /// The slots any row of `set` links to.
    public func linksOfAny(_ set: Slots) -> Slots {
        var union = none
        for i in names.indices where LinkMatrix.contains(set, i) {
            for w in 0..<words { union[w] |= linked[i * words + w] }
        }
        return union
    }

    /// The slots joined to `i` by a connection both ends report established.
    public func confirmedSet(_ i: Int) -> Slots { (0..<words).map { confirmedWord(i, $0) } }

    /// Word `w` of `confirmedSet(i)`.
    private func confirmedWord(_ i: Int, _ w: Int) -> UInt64 {
        var bits = established[i * words + w], confirmed: UInt64 = 0
        while bits != 0 {
            let bit = bits & (~bits &+ 1), j = w << 6 + bits.trailingZeroBitCount
            bits &= bits - 1
            if established[j * words + i >> 6] >> UInt64(i & 63) & 1 != 0 { confirmed |= bit }
        }
        return confirmed
    }

    /// True when `target` is reachable from `root` over confirmed links (as `Routes` has it,
    /// without building them).
    public func reaches(_ target: Int, from root: Int) -> Bool {
        LinkMatrix.contains(spread(from: root, until: target, row: confirmedWord), target)
    }

    /// Hops from `origin` over reported links, breadth first, as far as the level that holds
    /// `stop` (-1 for slots further away or unreached).
    public func depths(from origin: Int, through stop: Int) -> [Int] {
        var depth = [Int](repeating: -1, count: names.count)
        var visited = none
        depth[origin] = 0
        visited[origin >> 6] |= 1 << UInt64(origin & 63)
        var layer = [origin], level = 0
        while !layer.isEmpty, depth[stop] < 0 {
            level += 1
            var next: [Int] = []
            for node in layer {
                for w in 0..<words {
                    var fresh = linked[node * words + w] & ~visited[w]
                    visited[w] |= fresh
                    while fresh != 0 {
                        let j = w << 6 + fresh.trailingZeroBitCount
                        fresh &= fresh - 1
                        depth[j] = level
                        next.append(j)
                    }
                }
            }
            layer = next
        }
        return depth
    }

    /// The slots `root` reaches over reported links (itself included).
    public func reachable(from root: Int) -> Slots {
        spread(from: root) { linked[$0 * words + $1] }
    }

    /// The slots `root` reaches (itself included) over the rows `row(node, word)` gives, the
    /// search stopping once it reaches `target`.
    private func spread(from root: Int, until target: Int? = nil, row: (Int, Int) -> UInt64) -> Slots {
        var reached = none
        LinkMatrix.insert(root, into: &reached)
        var queue = [root]
        while let node = queue.popLast() {
            for w in 0..<words {
                var fresh = row(node, w) & ~reached[w]
                reached[w] |= fresh
                while fresh != 0 {
                    queue.append(w << 6 + fresh.trailingZeroBitCount)
                    fresh &= fresh - 1
                }
            }
            if let target, LinkMatrix.contains(reached, target) { break }
        }
        return reached
    }

    public static func contains(_ set: Slots, _ i: Int) -> Bool { set[i >> 6] >> UInt64(i & 63) & 1 != 0 }

    public static func insert(_ i: Int, into set: inout Slots) { set[i >> 6] |= 1 << UInt64(i & 63) }

    // MARK: updates

    /// `name`'s row becomes what its entry reports (nil: it has no entry any more).
    mutating func set(_ name: PeerName, connections: [PeerName: ConnectionSummary]?) {
        guard connections != nil || slots[name] != nil else { return }
        let i = slot(for: name)
        var released: [Int] = []
        for w in 0..<words {
            var bits = linked[i * words + w]
            while bits != 0 {
                released.append(w << 6 + bits.trailingZeroBitCount)
                bits &= bits - 1
            }
            linked[i * words + w] = 0
            established[i * words + w] = 0
        }
        for c in connections?.values ?? [:].values { link(i, c) }
        if connections != nil, !entries[i] {
            entries[i] = true
            references[i] += 1
        } else if connections == nil, entries[i] {
            entries[i] = false
            released.append(i)
        }
        for j in released { release(j) }
    }

    /// Applies an entry's delta to its row.
    mutating func apply(_ delta: TopologyEntry) {
        let i = slot(for: delta.name)
        for r in delta.removals {
            guard let j = slots[r], isLinked(i, to: j) else { continue }
            linked[i * words + j >> 6] &= ~(1 << UInt64(j & 63))
            established[i * words + j >> 6] &= ~(1 << UInt64(j & 63))
            release(j)
        }
        for c in delta.upserts { link(i, c) }
    }

    private mutating func link(_ i: Int, _ c: ConnectionSummary) {
        let j = slot(for: c.remote)
        let at = i * words + j >> 6, bit: UInt64 = 1 << UInt64(j & 63)
        if linked[at] & bit == 0 {
            linked[at] |= bit
            references[j] += 1
        }
        if c.established { established[at] |= bit } else { established[at] &= ~bit }
    }

    private mutating func release(_ j: Int) {
        references[j] -= 1
        guard references[j] == 0, let name = names[j] else { return }
        names[j] = nil
        slots[name] = nil
        free.append(j)
    }

    private mutating func slot(for name: PeerName) -> Int {
        if let i = slots[name] { return i }
        let i: Int
        if let reused = free.popLast() {
            i = reused
            names[i] = name
        } else {
            i = names.count
            if i == words * 64 { widen() }
            names.append(name)
            entries.append(false)
            references.append(0)
            linked += Slots(repeating: 0, count: words)
            established += Slots(repeating: 0, count: words)
        }
        slots[name] = i
        return i
    }

    /// One more word per row (room for 64 more slots).
    private mutating func widen() {
        let wider = words + 1
        func relaid(_ rows: Slots) -> Slots {
            var out = Slots(repeating: 0, count: names.count * wider)
            for r in 0..<names.count {
                for w in 0..<words { out[r * wider + w] = rows[r * words + w] }
            }
            return out
        }
        linked = relaid(linked)
        established = relaid(established)
        words = wider
    }
}
