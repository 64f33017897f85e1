import Testing
@testable import WeftIPAM
import WeftMesh
import WeftTypes

@Suite struct PaxosTests {
    /// Random models: nodes start at random moments, exchange views with random neighbours
    /// (messages may be lost, some links never work), and re-propose when stalled. Whenever
    /// two nodes see a decision, it is the same one, and with a connected graph all decide.
    @Test(arguments: 0..<100)
    func randomModelsAgree(seed: Int) {
        var rng = SplitMix64(seed: UInt64(seed) &+ 7)
        let n = Int.random(in: 1...9, using: &rng)
        let names = (1...n).map { PeerName(rawValue: UInt64($0) * 0x1_0001) }
        let quorum = n / 2 + 1
        var nodes = names.map { Paxos(me: $0, quorum: quorum) }
        // A ring of links plus random extras keeps the graph connected.
        var links = Set((0..<n).map { [$0, ($0 + 1) % n].sorted() })
        for _ in 0..<n { links.insert([Int.random(in: 0..<n, using: &rng), Int.random(in: 0..<n, using: &rng)].sorted()) }
        let linkList = links.filter { $0[0] != $0[1] }.map { ($0[0], $0[1]) }
        var decided: [PeerName]?
        for step in 0..<400 {
            let i = Int.random(in: 0..<n, using: &rng)
            if step < 40 && Int.random(in: 0..<4, using: &rng) == 0 || step % 97 == 96 { nodes[i].propose() }
            if let (a, b) = linkList.randomElement(using: &rng), Int.random(in: 0..<5, using: &rng) > 0 {
                let (from, to) = Bool.random(using: &rng) ? (a, b) : (b, a)
                if nodes[to].merge(nodes[from].knows) {
                    nodes[to].join()
                    _ = nodes[to].think()
                }
            }
            for node in nodes {
                guard let d = node.decision else { continue }
                if let decided { #expect(d == decided) } else { decided = d }
            }
        }
        // Then reliable exchange until quiet: every node learns the decision.
        for _ in 0..<(4 * n) {
            for (a, b) in linkList {
                if nodes[b].merge(nodes[a].knows) { _ = nodes[b].think() }
                if nodes[a].merge(nodes[b].knows) { _ = nodes[a].think() }
            }
        }
        if decided == nil { nodes[0].propose() }
        for _ in 0..<(4 * n) {
            for (a, b) in linkList {
                if nodes[b].merge(nodes[a].knows) { nodes[b].join(); _ = nodes[b].think() }
                if nodes[a].merge(nodes[b].knows) { nodes[a].join(); _ = nodes[a].think() }
            }
        }
        let final = nodes.compactMap(\.decision)
        #expect(final.count == n)
        #expect(Set(final).count == 1)
        if let decided { #expect(final.first == decided) }
    }
}

/// Paxos rounds and ring versions at their maximum: refused by the decoder, ignored by the
/// merge, and the next proposal still has a round.
@Suite struct IPAMVersionLimitTests {
    static let a = PeerName(rawValue: 1), b = PeerName(rawValue: 2)

    @Test func maximumRound() {
        var p = Paxos(me: Self.a, quorum: 2)
        p.join()
        let hostile = PaxosClaims(promise: ProposalID(round: .max, proposer: Self.b))
        let changed = p.merge([Self.b: hostile])
        #expect(!changed)
        p.propose()
        #expect(p.knows[Self.a]?.promise.round == 1)
    }

    @Test func decoderRefusesMaximum() throws {
        let range = try #require(Subnet("10.32.0.0/24"))
        var ring = Ring(start: range.start, end: range.end)
        ring.seeds = [Self.a]
        let claims = [Self.b: PaxosClaims(promise: ProposalID(round: .max, proposer: Self.b))]
        let message = IPAMMessage.state(ring: ring, paxos: claims, nicknames: [:])
        #expect(throws: WireError.self) { try IPAMMessage.decode(message.encode()) }
    }
}

extension IPAMVersionLimitTests {
    /// A ring entry at UInt32.max (its owner would add one) is refused by the decoder.
    @Test func ringEntryAtMaximum() throws {
        let range = try #require(Subnet("10.32.0.0/24"))
        var ring = Ring(start: range.start, end: range.end)
        ring.seeds = [Self.a]
        ring.entries = [RingEntry(token: range.start, owner: Self.a, version: .max, free: 10)]
        #expect(throws: WireError.self) { try IPAMMessage.decode(IPAMMessage.handoff(ring).encode()) }
    }
}
