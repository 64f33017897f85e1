import Testing
import WeftIPAM
import WeftMesh
import WeftTypes

@Suite struct RingTests {
    static func peer(_ i: Int) -> PeerName { PeerName(rawValue: UInt64(i)) }
    static let start: UInt32 = 0x0A20_0000  // 10.32.0.0
    static let end: UInt32 = 0x0A30_0000    // 10.48.0.0 (a /12)

    /// The first division gives every peer a contiguous, nearly equal share of the whole range.
    @Test func division() {
        let ring = Ring(start: Self.start, end: Self.end, dividedAmong: [Self.peer(3), Self.peer(1), Self.peer(2)])
        let counts = (1...3).map { ring.ownedCount(Self.peer($0)) }
        #expect(counts.reduce(0, +) == UInt64(Self.end - Self.start))
        #expect(counts.max()! - counts.min()! <= 1)
        #expect(ring.owner(of: Self.start) == Self.peer(1))
        #expect(ring.owner(of: Self.end - 1) == Self.peer(3))
        #expect(ring.owner(of: Self.end) == nil)
    }

    /// Only the owner can give, and only what it owns.
    @Test func onlyOwnersGive() {
        var ring = Ring(start: Self.start, end: Self.end, dividedAmong: [Self.peer(1), Self.peer(2)])
        let mid = Self.start + (Self.end - Self.start) / 2
        let notOwner = ring.give(from: Self.start, to: Self.start + 10, to: Self.peer(3), by: Self.peer(2))
        let straddles = ring.give(from: mid - 5, to: mid + 5, to: Self.peer(3), by: Self.peer(1))
        let owned = ring.give(from: Self.start + 100, to: Self.start + 200, to: Self.peer(3), by: Self.peer(1))
        #expect(!notOwner && !straddles && owned)
        #expect(ring.owner(of: Self.start + 99) == Self.peer(1))
        #expect(ring.owner(of: Self.start + 100) == Self.peer(3))
        #expect(ring.owner(of: Self.start + 199) == Self.peer(3))
        #expect(ring.owner(of: Self.start + 200) == Self.peer(1))
    }

    /// Property: peers that give away halves of their ranges and merge each other's replicas in
    /// any order never both believe they own one address, and once every replica has seen every
    /// other, all replicas are equal.
    @Test(arguments: 0..<20)
    func randomGiftsAndMergesNeverDuplicate(seed: Int) {
        var rng = SplitMix64(seed: UInt64(seed))
        let peers = (1...5).map(Self.peer)
        let initial = Ring(start: Self.start, end: Self.start + 4096, dividedAmong: Array(peers.prefix(3)))
        var replicas = Dictionary(uniqueKeysWithValues: peers.map { ($0, initial) })
        for _ in 0..<300 {
            let p = peers.randomElement(using: &rng)!
            if Bool.random(using: &rng) {
                let mine = replicas[p]!.ranges(ownedBy: p)
                guard let r = mine.randomElement(using: &rng), r.to - r.from >= 2 else { continue }
                let half = r.from + (r.to - r.from) / 2
                let q = peers.filter { $0 != p }.randomElement(using: &rng)!
                let given = replicas[p]!.give(from: half, to: r.to, to: q, by: p)
                #expect(given)
            } else {
                let q = peers.randomElement(using: &rng)!
                _ = try? replicas[p]!.merge(replicas[q]!)
            }
            // No address is claimed by two peers' own replicas.
            for _ in 0..<50 {
                let a = Self.start + UInt32.random(in: 0..<4096, using: &rng)
                let claimants = peers.filter { replicas[$0]!.owner(of: a) == $0 }
                #expect(claimants.count <= 1, "address \(a) claimed by \(claimants)")
            }
        }
        for _ in 0..<2 { for p in peers { for q in peers { _ = try? replicas[p]!.merge(replicas[q]!) } } }
        let first = replicas[peers[0]]!
        #expect(peers.allSatisfy { replicas[$0]! == first })
        #expect(peers.reduce(0) { $0 + first.ownedCount($1) } == 4096)
    }

    /// Merging is commutative, associative and idempotent.
    @Test func mergeLaws() {
        var a = Ring(start: Self.start, end: Self.end, dividedAmong: [Self.peer(1), Self.peer(2)])
        var b = a, c = a
        a.give(from: Self.start + 10, to: Self.start + 20, to: Self.peer(3), by: Self.peer(1))
        b.give(from: Self.end - 20, to: Self.end, to: Self.peer(4), by: Self.peer(2))
        c.give(from: Self.start + 30, to: Self.start + 40, to: Self.peer(2), by: Self.peer(1))
        func merged(_ rings: [Ring]) -> Ring {
            var r = rings[0]
            for x in rings.dropFirst() { _ = try? r.merge(x) }
            return r
        }
        let abc = merged([a, b, c])
        #expect(merged([c, b, a]) == abc)
        #expect(merged([b, a, c]) == abc)
        #expect(merged([abc, abc, a]) == abc)
        var other = Ring(start: Self.start, end: Self.end - 1)
        #expect(throws: RingError.differentRange) { try other.merge(a) }
    }

    /// A ring divided among other peers is refused; an undivided ring takes a divided one whole.
    @Test func seedsDecideIdentity() throws {
        let ab = Ring(start: Self.start, end: Self.end, dividedAmong: [Self.peer(1), Self.peer(2)])
        var c = Ring(start: Self.start, end: Self.end, dividedAmong: [Self.peer(3)])
        #expect(throws: RingError.self) { try c.merge(ab) }
        var empty = Ring(start: Self.start, end: Self.end)
        let changed = try empty.merge(ab)
        #expect(changed && empty == ab)
    }

    /// Take-over moves every range of the dead peer to the heir, all free; two administrators
    /// taking over the same peer concurrently still converge on one owner per address.
    @Test func transferConverges() throws {
        let ring = Ring(start: Self.start, end: Self.start + 300, dividedAmong: (1...3).map(Self.peer))
        var x = ring, y = ring
        let moved = x.transfer(from: Self.peer(3), to: Self.peer(1))
        _ = y.transfer(from: Self.peer(3), to: Self.peer(2))
        #expect(moved == 100 && x.ownedCount(Self.peer(1)) == 200)
        var xy = x, yx = y
        try xy.merge(y)
        try yx.merge(x)
        #expect(xy == yx)
        #expect(xy.ownedCount(Self.peer(3)) == 0)
        #expect(xy.ownedCount(Self.peer(1)) + xy.ownedCount(Self.peer(2)) == 300)
    }
}
