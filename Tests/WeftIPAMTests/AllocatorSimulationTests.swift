import Foundation
import Testing
import WeftIPAM
import WeftMesh
import WeftTypes

/// Allocators joined by an in-process transport that can be partitioned: every message goes
/// through the wire codec, gossip reaches every peer on the same side, unicasts one peer.
struct IPAMCluster {
    var nodes: [PeerName: Allocator] = [:]
    var side: [PeerName: Int] = [:]
    var queue: [(PeerName, PeerName, IPAMMessage)] = []
    var now: UInt64 = 1_000_000_000
    var refused = 0

    static func peer(_ i: Int) -> PeerName { PeerName(rawValue: UInt64(i) << 8 | 1) }

    init(peers: Int, range: String, mode: (Int) -> BootstrapMode) {
        for i in 1...peers {
            let p = Self.peer(i)
            nodes[p] = Allocator(me: p, range: Subnet(range)!, mode: mode(i))
            side[p] = 0
        }
    }

    func reachable(from p: PeerName) -> Set<PeerName> {
        Set(nodes.keys.filter { $0 != p && side[$0] == side[p] })
    }

    mutating func post(_ sends: [Allocator.Send], from p: PeerName) {
        for s in sends {
            // Through the codec, as on the wire.
            guard let message = try? IPAMMessage.decode(s.message.encode()) else {
                Issue.record("message did not survive its codec")
                continue
            }
            let targets = s.to.map { [$0] } ?? Array(reachable(from: p))
            for t in targets where reachable(from: p).contains(t) { queue.append((p, t, message)) }
        }
    }

    /// Delivers until quiet.
    mutating func run() {
        var steps = 0
        while !queue.isEmpty && steps < 100_000 {
            let (from, to, message) = queue.removeFirst()
            steps += 1
            guard side[from] == side[to] else { continue }
            do {
                let (_, sends) = try nodes[to]!.receive(message, from: from, now: now)
                post(sends, from: to)
            } catch { refused += 1 }
        }
    }

    mutating func start() {
        for p in nodes.keys.sorted() { post(nodes[p]!.start(now: now), from: p) }
        run()
    }

    /// Time passes: every node ticks and gossips its whole state (anti-entropy).
    mutating func tick(seconds: UInt64 = 1) {
        now += seconds * 1_000_000_000
        for p in nodes.keys.sorted() {
            post(nodes[p]!.tick(now: now), from: p)
            post([nodes[p]!.gossip()], from: p)
        }
        run()
    }

    /// Allocates on `p`, letting messages and time flow while it waits.
    mutating func allocate(on p: PeerName, id: String, in subnet: Subnet? = nil) -> Result<Allocation, IPAMError> {
        for _ in 0..<20 {
            let (outcome, sends) = nodes[p]!.allocate(id: id, in: subnet, now: now, reachable: reachable(from: p))
            post(sends, from: p)
            run()
            switch outcome {
            case let .done(a): return .success(a)
            case let .failed(e): return .failure(e)
            case .waiting: tick()
            }
        }
        return .failure(IPAMError(.unavailable, "still waiting"))
    }

    /// Every allocation of every node, as (node, address).
    var allAllocations: [(PeerName, UInt32)] {
        nodes.flatMap { p, node in node.allocations.values.flatMap { $0.map { (p, $0.address) } } }
    }
}

@Suite struct AllocatorSimulationTests {
    static let peer = IPAMCluster.peer

    /// Four peers agree by consensus, divide the range evenly, and allocate without duplicates.
    @Test func consensusDividesAmongAll() {
        var c = IPAMCluster(peers: 4, range: "10.32.0.0/12") { _ in .consensus(peers: 4) }
        c.start()
        c.tick()
        let rings = Set(c.nodes.values.map(\.ring))
        #expect(rings.count == 1 && rings.first!.isDivided)
        #expect(rings.first!.seeds.count == 4)
        for i in 1...4 { for j in 0..<50 { _ = c.allocate(on: Self.peer(i), id: "c\(i)-\(j)") } }
        let addresses = c.allAllocations.map(\.1)
        #expect(addresses.count == 200 && Set(addresses).count == 200)
    }

    /// No address before agreement: with too few peers for the quorum, allocation waits.
    @Test func noAddressBeforeAgreement() {
        var c = IPAMCluster(peers: 1, range: "10.32.0.0/24") { _ in .consensus(peers: 3) }
        c.start()
        c.tick(seconds: 10)
        let result = c.allocate(on: Self.peer(1), id: "x")
        #expect(throws: IPAMError.self) { try result.get() }
        #expect(c.nodes[Self.peer(1)]!.allocatedCount == 0)
    }

    /// A 2|2 partition where both halves keep allocating (with donations inside each half),
    /// then heals: not one address is held twice, and every holder owns what it holds.
    @Test(arguments: 0..<5)
    func partitionHealsWithoutDuplicates(seed: Int) {
        var c = IPAMCluster(peers: 4, range: "10.40.0.0/24") { _ in .consensus(peers: 4) }
        c.start()
        c.tick()
        for i in 1...4 { c.side[Self.peer(i)] = i <= 2 ? 1 : 2 }
        var rng = SplitMix64(seed: UInt64(seed))
        for n in 0..<120 {
            let i = Int.random(in: 1...4, using: &rng)
            _ = c.allocate(on: Self.peer(i), id: "p\(n)")
            if Int.random(in: 0..<10, using: &rng) == 0 {
                let j = Int.random(in: 1...4, using: &rng)
                if let id = c.nodes[Self.peer(j)]!.allocations.keys.sorted().first { _ = c.nodes[Self.peer(j)]!.free(id: id) }
            }
        }
        for i in 1...4 { c.side[Self.peer(i)] = 0 }
        c.tick()
        c.tick()
        for n in 0..<20 { _ = c.allocate(on: Self.peer(n % 4 + 1), id: "h\(n)") }
        c.tick()
        let all = c.allAllocations
        #expect(Set(all.map(\.1)).count == all.count, "an address is held twice")
        #expect(Set(c.nodes.values.map(\.ring)).count == 1, "rings differ after healing")
        let ring = c.nodes.values.first!.ring
        for (holder, address) in all { #expect(ring.owner(of: address) == holder) }
        #expect(c.refused == 0)
    }

    /// A peer with no space (an observer) gets some by asking; donors give at most half.
    @Test func observerGetsDonation() throws {
        var c = IPAMCluster(peers: 3, range: "10.40.0.0/24") { $0 == 3 ? .observer : .seed([Self.peer(1), Self.peer(2)]) }
        c.start()
        c.tick()
        #expect(c.nodes[Self.peer(3)]!.ring.ownedCount(Self.peer(3)) == 0)
        let a = try c.allocate(on: Self.peer(3), id: "obs").get()
        let ring = c.nodes[Self.peer(3)]!.ring
        #expect(ring.owner(of: a.address) == Self.peer(3))
        #expect(ring.ownedCount(Self.peer(3)) <= 64)
    }

    /// Space of a dead peer: allocation fails at once naming it (no hang), `takeOver` refuses
    /// a reachable peer, and after it the space is usable.
    @Test func rmpeerReclaims() throws {
        var c = IPAMCluster(peers: 3, range: "10.40.0.0/26") { _ in .consensus(peers: 3) }
        c.start()
        c.tick()
        let p1 = Self.peer(1), p3 = Self.peer(3)
        #expect(throws: IPAMError.self) { try c.nodes[p1]!.takeOver(from: p3, reachable: c.reachable(from: p1)) }
        c.side[p3] = 9  // p3 dies
        var got = 0
        while case .success = c.allocate(on: p1, id: "a\(got)") { got += 1 }
        guard case let .failure(error) = c.allocate(on: p1, id: "more") else { Issue.record("allocated beyond"); return }
        #expect(error.description.contains("unreachable"))
        // The same owner connected but not yet in the routes (it just launched): wait for it.
        let (joining, _) = c.nodes[p1]!.allocate(id: "more", now: c.now, reachable: c.reachable(from: p1), connected: [p3])
        guard case let .waiting(why) = joining else { Issue.record("no wait for a connected owner: \(joining)"); return }
        #expect(why.contains("waiting for routes"))
        let (moved, sends) = try c.nodes[p1]!.takeOver(from: p3, reachable: c.reachable(from: p1))
        c.post(sends, from: p1)
        c.run()
        #expect(moved > 0)
        while case .success = c.allocate(on: p1, id: "a\(got)") { got += 1 }
        while case .success = c.allocate(on: Self.peer(2), id: "a\(got)") { got += 1 }
        #expect(got == 62)  // all of a /26 but its network and broadcast addresses
    }

    /// A seeded peer that lost its state rebuilds the first division, which is stale: it hands
    /// out nothing until a peer with the real ring answered, and then only what it still owns.
    @Test func seededPeerWithoutStateWaitsForTheRing() throws {
        let seeds = [Self.peer(1), Self.peer(2)]
        var c = IPAMCluster(peers: 3, range: "10.40.0.0/24") { $0 == 3 ? .observer : .seed(seeds) }
        c.start()
        c.tick()
        let gift = try c.allocate(on: Self.peer(3), id: "obs").get()  // p1 or p2 gave p3 space
        let donor = c.nodes[Self.peer(1)]!.ring.ownedCount(Self.peer(1)) < 128 ? Self.peer(1) : Self.peer(2)
        c.nodes[donor] = Allocator(me: donor, range: Subnet("10.40.0.0/24")!, mode: .seed(seeds))
        let sends = c.nodes[donor]!.start(now: c.now)
        #expect(!c.nodes[donor]!.isReady)
        let (early, _) = c.nodes[donor]!.allocate(id: "x", now: c.now, reachable: [])
        guard case .waiting = early else { Issue.record("allocated from a stale ring: \(early)"); return }
        c.post(sends, from: donor)
        c.run()
        c.tick()
        var held: [UInt32] = []
        for j in 0..<100 { if case let .success(a) = c.allocate(on: donor, id: "d\(j)") { held.append(a.address) } }
        let ring = c.nodes[Self.peer(3)]!.ring
        #expect(!held.isEmpty && held.allSatisfy { ring.owner(of: $0) == donor })
        #expect(!held.contains(gift.address))
    }

    /// Seeds that disagree: both sides refuse the other's ring; the losing side stops allocating.
    @Test func seedMismatch() {
        var c = IPAMCluster(peers: 3, range: "10.40.0.0/24") { i in
            i == 3 ? .seed([Self.peer(3)]) : .seed([Self.peer(1), Self.peer(2)])
        }
        c.start()
        c.tick()
        #expect(c.refused > 0)
        #expect(!c.nodes[Self.peer(3)]!.conflicts.isEmpty && !c.nodes[Self.peer(1)]!.conflicts.isEmpty)
        #expect(throws: IPAMError.self) { try c.allocate(on: Self.peer(3), id: "x").get() }
        #expect(throws: Never.self) { try c.allocate(on: Self.peer(1), id: "x").get() }
    }

    /// Peers launched alone (each its own one-peer ring) and connected later end on one ring,
    /// as long as nothing was allocated.
    @Test func unusedSoloRingsGiveWay() {
        var c = IPAMCluster(peers: 3, range: "10.40.0.0/24") { _ in .consensus(peers: 1) }
        for i in 1...3 { c.side[Self.peer(i)] = i }
        c.start()
        for i in 1...3 { c.side[Self.peer(i)] = 0 }
        c.tick()
        c.tick()
        #expect(Set(c.nodes.values.map(\.ring)).count == 1)
    }

    /// The snapshot and the journal written after it restore the ring, the agreement and every
    /// allocation; a torn last journal line is dropped, a damaged earlier one refused.
    @Test func snapshotAndJournalRestore() throws {
        var c = IPAMCluster(peers: 2, range: "10.32.0.0/12") { _ in .consensus(peers: 2) }
        c.start()
        c.tick()
        let p = Self.peer(1)
        for j in 0..<5 { _ = c.allocate(on: p, id: "c\(j)") }
        let snapshot = try c.nodes[p]!.snapshot()
        let inSnapshot = c.nodes[p]!.journal.count
        for j in 5..<10 { _ = c.allocate(on: p, id: "c\(j)") }
        _ = c.allocate(on: p, id: "c0", in: Subnet("10.33.0.0/16"))
        _ = c.nodes[p]!.free(id: "c3")
        let journal = c.nodes[p]!.journal.dropFirst(inSnapshot).reduce(into: Data()) { $0 += $1.line() }
        let original = c.nodes[p]!
        func restored(_ journal: Data) throws -> Allocator {
            var a = Allocator(me: p, range: original.range, mode: original.mode)
            try a.restore(snapshot: snapshot, journal: journal)
            return a
        }
        let r = try restored(journal)
        #expect(r.ring == original.ring && r.paxos == original.paxos)
        #expect(r.allocations.mapValues(Set.init) == original.allocations.mapValues(Set.init))
        #expect(r.lookup(id: "c3").isEmpty && r.lookup(id: "c0").count == 2)
        let torn = try restored(journal + Data("{\"seq\":99,\"op\":\"ho".utf8))
        #expect(torn.allocations.mapValues(Set.init) == original.allocations.mapValues(Set.init))
        #expect(throws: IPAMError.self) { try restored(Data("garbage\n".utf8) + journal) }
        // Replaying records the snapshot already holds changes nothing.
        var twice = Allocator(me: p, range: original.range, mode: original.mode)
        try twice.restore(snapshot: try r.snapshot(), journal: journal)
        #expect(twice.allocations.mapValues(Set.init) == original.allocations.mapValues(Set.init))
        var other = Allocator(me: Self.peer(2), range: original.range, mode: original.mode)
        #expect(throws: IPAMError.self) { try other.restore(snapshot: snapshot, journal: nil) }
    }
}

@Suite struct IPAMMessageTests {
    /// Every message survives its codec; random and mutated bytes never trap.
    @Test func codecRoundTripAndHostileBytes() {
        var ring = Ring(start: 0x0A28_0000, end: 0x0A28_0100, dividedAmong: [IPAMCluster.peer(1), IPAMCluster.peer(2)])
        ring.give(from: 0x0A28_0010, to: 0x0A28_0020, to: IPAMCluster.peer(3), by: IPAMCluster.peer(1))
        let claims = [IPAMCluster.peer(1): PaxosClaims(promise: ProposalID(round: 3, proposer: IPAMCluster.peer(1)))]
        let messages: [IPAMMessage] = [
            .state(ring: ring, paxos: claims, nicknames: [IPAMCluster.peer(1): "h1"]),
            .spaceRequest(Subnet("10.40.0.0/24")!), .spaceDenied(Subnet("10.40.0.0/16")!),
            .handoff(ring), .handoffAck,
        ]
        var rng = SplitMix64(seed: 1)
        for m in messages {
            let bytes = m.encode()
            #expect((try? IPAMMessage.decode(bytes)) == m)
            for _ in 0..<500 {
                var mutated = Array(bytes.readableBytesView)
                let i = Int.random(in: 0..<mutated.count, using: &rng)
                mutated[i] = UInt8.random(in: 0...255, using: &rng)
                let cut = Int.random(in: 0...mutated.count, using: &rng)
                _ = try? IPAMMessage.decode(.init(bytes: mutated))
                _ = try? IPAMMessage.decode(.init(bytes: mutated.prefix(cut)))
            }
        }
        for _ in 0..<2000 {
            let junk = (0..<Int.random(in: 0..<64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            _ = try? IPAMMessage.decode(.init(bytes: junk))
        }
    }
}
