public import FoundationEssentials
import Glibc
import WeftMesh
import WeftTypes

/// IPAM's persisted state is two files in the state directory, both JSON so an operator can
/// read them:
/// - `ipam.json`, the snapshot: the ring, the agreement's claims, this peer's allocations,
///   known nicknames, and the sequence number of the last allocation change it includes.
///   Replaced atomically (temporary file, fsync, rename, fsync of the directory) when the ring
///   changes or the journal grows long;
/// - `ipam.journal`, one line per allocation change since the snapshot (`JournalRecord`),
///   appended and fsynced before the change is answered, so an allocation costs one small
///   write however many there are.
/// A crash leaves the old or new snapshot whole, and at worst a torn last journal line (an
/// allocation that was never answered), which the reader drops.
struct IPAMSnapshot: Codable {
    struct Entry: Codable {
        var token: String
        var owner: String
        var version: UInt32
        var free: UInt32
    }

    struct Claims: Codable {
        var peer: String
        var promise: [String]
        var accepted: [String]
        var value: [String]
    }

    var format = 1
    var sequence: UInt64
    var peer: String
    var range: String
    var seeds: [String]
    var entries: [Entry]
    var paxos: [Claims]
    /// Container ID → CIDRs.
    var allocations: [String: [String]]
    var nicknames: [String: String]
}

extension Allocator {
    /// The persisted form of this allocator.
    public func snapshot() throws -> Data {
        func proposal(_ p: ProposalID) -> [String] { ["\(p.round)", p.proposer.description] }
        let snapshot = IPAMSnapshot(
            sequence: sequence, peer: me.description, range: range.description, seeds: ring.seeds.map(\.description),
            entries: ring.entries.map { .init(token: IPv4.format($0.token), owner: $0.owner.description,
                                              version: $0.version, free: $0.free) },
            paxos: paxos.knows.sorted { $0.key < $1.key }.map {
                .init(peer: $0.key.description, promise: proposal($0.value.promise),
                      accepted: proposal($0.value.accepted), value: $0.value.value.map(\.description))
            },
            allocations: allocations.mapValues { $0.map(\.cidr) },
            nicknames: Dictionary(uniqueKeysWithValues: nicknames.map { ($0.key.description, $0.value) }))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(snapshot)
    }

    /// Restores what `snapshot()` and the journal records wrote. A snapshot of another peer
    /// or another range is refused (the caller starts afresh and says so); a damaged one
    /// throws, as does a damaged journal line other than a torn last one.
    public mutating func restore(snapshot data: Data?, journal: Data?) throws(IPAMError) {
        if let data { try restore(data) }
        confirmed = true
        guard let journal else { return }
        let lines = journal.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        for (n, line) in lines.enumerated() where !line.isEmpty {
            guard let record = try? JSONDecoder().decode(JournalRecord.self, from: Data(line)),
                  let allocation = record.allocation else {
                if n == lines.count - 1 { break }  // torn by a crash mid-write: never answered
                throw IPAMError(.invalid, "the IPAM journal is damaged at line \(n + 1)")
            }
            guard record.sequence > sequence else { continue }  // already in the snapshot
            sequence = record.sequence
            switch record.op {
            case .hold: restoreAllocation(allocation, for: record.id)
            case .release: restoreRelease(allocation.address, for: record.id)
            }
        }
    }

    private mutating func restore(_ data: Data) throws(IPAMError) {
        guard let s = try? JSONDecoder().decode(IPAMSnapshot.self, from: data) else {
            throw IPAMError(.invalid, "the IPAM state file is not valid")
        }
        guard s.peer == me.description else {
            throw IPAMError(.conflict, "the IPAM state belongs to peer \(s.peer), not \(me)")
        }
        guard s.range == range.description else {
            throw IPAMError(.conflict, "the IPAM state is for range \(s.range), not \(range)")
        }
        func name(_ text: String) throws(IPAMError) -> PeerName {
            guard let n = PeerName(text) else { throw IPAMError(.invalid, "bad peer name \(text) in the IPAM state") }
            return n
        }
        func proposal(_ p: [String]) throws(IPAMError) -> ProposalID {
            guard p.count == 2, let round = UInt64(p[0]) else { throw IPAMError(.invalid, "bad proposal in the IPAM state") }
            return ProposalID(round: round, proposer: try name(p[1]))
        }
        var restored = Ring(start: range.start, end: range.end)
        for t in s.seeds { restored.seeds.append(try name(t)) }
        for e in s.entries {
            guard let token = IPv4.parse(e.token), range.contains(token) else {
                throw IPAMError(.invalid, "bad ring token \(e.token) in the IPAM state")
            }
            restored.entries.append(RingEntry(token: token, owner: try name(e.owner), version: e.version, free: e.free))
        }
        guard restored.entries.first.map({ $0.token == range.start }) ?? true,
              zip(restored.entries, restored.entries.dropFirst()).allSatisfy({ $0.token < $1.token }) else {
            throw IPAMError(.invalid, "the ring in the IPAM state is out of order")
        }
        var knows: [PeerName: PaxosClaims] = [:]
        for c in s.paxos {
            var value: [PeerName] = []
            for v in c.value { value.append(try name(v)) }
            knows[try name(c.peer)] = PaxosClaims(promise: try proposal(c.promise), accepted: try proposal(c.accepted), value: value)
        }
        ring = restored
        paxos = Paxos(me: me, quorum: paxos.quorum, knows: knows)
        for (id, cidrs) in s.allocations {
            for cidr in cidrs {
                guard let allocation = Allocation(cidr: cidr) else {
                    throw IPAMError(.invalid, "bad allocation \(cidr) in the IPAM state")
                }
                restoreAllocation(allocation, for: id)
            }
        }
        sequence = s.sequence
        for (n, nick) in s.nicknames { if let peer = PeerName(n) { nicknames[peer] = nick } }
    }
}

/// One allocation change in the journal: `{"seq":7,"op":"hold","id":"c1","cidr":"10.32.0.1/12"}`.
public struct JournalRecord: Codable, Hashable, Sendable {
    public enum Op: String, Codable, Sendable { case hold, release }

    public var sequence: UInt64
    public var op: Op
    public var id: String
    public var cidr: String

    enum CodingKeys: String, CodingKey {
        case sequence = "seq", op, id, cidr
    }

    var allocation: Allocation? { Allocation(cidr: cidr) }

    /// The record as one journal line, newline included.
    public func line() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return ((try? encoder.encode(self)) ?? Data()) + Data("\n".utf8)
    }
}
