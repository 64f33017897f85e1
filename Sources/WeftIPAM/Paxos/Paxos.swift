import WeftMesh
public import WeftTypes

/// A proposal number: a round, made unique by the proposer's name. Zero means "none".
public struct ProposalID: Hashable, Sendable, Comparable {
    public var round: UInt64
    public var proposer: PeerName

    public static let none = ProposalID(round: 0, proposer: PeerName(rawValue: 0))

    public init(round: UInt64, proposer: PeerName) {
        self.round = round
        self.proposer = proposer
    }

    public static func < (a: ProposalID, b: ProposalID) -> Bool {
        (a.round, a.proposer) < (b.round, b.proposer)
    }
}

/// What one participant has said: the highest proposal it promised, and the last proposal it
/// accepted with that proposal's value (the peers to divide the ring among).
public struct PaxosClaims: Hashable, Sendable {
    public var promise: ProposalID = .none
    public var accepted: ProposalID = .none
    public var value: [PeerName] = []

    public init(promise: ProposalID = .none, accepted: ProposalID = .none, value: [PeerName] = []) {
        self.promise = promise
        self.accepted = accepted
        self.value = value
    }

    /// Claims only grow (a participant never takes back a promise or an acceptance), so the
    /// later of two copies is the greater.
    func supersedes(_ other: PaxosClaims) -> Bool {
        (promise, accepted) > (other.promise, other.accepted)
    }
}

/// Single-decree Paxos over gossip, deciding the set of peers the IPAM ring is first divided
/// among. Every participant is proposer, acceptor and learner at once; each writes only its own
/// claims, and everyone gossips what it knows of all claims, so one merged view replaces
/// Paxos's prepare/promise/accept/accepted messages. Safety is Paxos's: a value is chosen once a
/// quorum accepted the same proposal, and any two quorums of `quorum > N/2` intersect.
public struct Paxos: Hashable, Sendable {
    public let me: PeerName
    public let quorum: Int
    /// Claims of every participant heard of, this one's included once it takes part.
    public private(set) var knows: [PeerName: PaxosClaims] = [:]

    public init(me: PeerName, quorum: Int, knows: [PeerName: PaxosClaims] = [:]) {
        self.me = me
        self.quorum = max(1, quorum)
        self.knows = knows
    }

    /// Starts (or restarts, after a stall) a proposal with a round above any seen.
    public mutating func propose() {
        let round = (knows.values.map { max($0.promise.round, $0.accepted.round) }.max() ?? 0) + 1
        knows[me, default: PaxosClaims()].promise = ProposalID(round: round, proposer: me)
        _ = think()
    }

    /// Takes part from now on (a participant that hears of a proposal before making one).
    public mutating func join() {
        if knows[me] == nil { knows[me] = PaxosClaims() }
    }

    /// Folds in another participant's view; returns true when anything was new.
    @discardableResult
    public mutating func merge(_ other: [PeerName: PaxosClaims]) -> Bool {
        var changed = false
        // Rounds beyond the limit (decoders refuse them) would overflow the next proposal's.
        for (name, claims) in other where knows[name].map({ claims.supersedes($0) }) ?? true
            && VersionLimit.accepts(claims.promise.round) && VersionLimit.accepts(claims.accepted.round) {
            knows[name] = claims
            changed = true
        }
        return changed
    }

    /// This participant's step after learning something: promise the highest proposal seen;
    /// as its proposer with a quorum of promises, accept it with the value of the highest
    /// acceptance among them (or, if none, every participant known); otherwise accept the
    /// value its proposer accepted. Returns true when its own claims changed.
    public mutating func think() -> Bool {
        guard var mine = knows[me] else { return false }
        let before = mine
        if let highest = knows.values.map(\.promise).max(), highest > mine.promise { mine.promise = highest }
        if mine.accepted < mine.promise {
            if mine.promise.proposer == me {
                let promised = knows.values.filter { $0.promise == mine.promise }
                if promised.count >= quorum {
                    let prior = promised.filter { $0.accepted != .none }.max { $0.accepted < $1.accepted }
                    mine.accepted = mine.promise
                    mine.value = prior?.value ?? knows.keys.sorted()
                }
            } else if let leader = knows.values.first(where: { $0.accepted == mine.promise }) {
                mine.accepted = mine.promise
                mine.value = leader.value
            }
        }
        knows[me] = mine
        return mine != before
    }

    /// The chosen peer set, once a quorum accepted one proposal.
    public var decision: [PeerName]? {
        var counts: [ProposalID: Int] = [:]
        for claims in knows.values where claims.accepted != .none {
            counts[claims.accepted, default: 0] += 1
            if counts[claims.accepted]! >= quorum { return claims.value }
        }
        return nil
    }

    /// True once this participant has made or joined any proposal.
    public var isParticipating: Bool { knows[me] != nil }
}
