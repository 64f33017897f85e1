import WeftMesh
public import WeftTypes

/// The IPAM logic of one router, free of sockets, files and clocks: the ring, the agreement
/// that first divides it, this peer's allocations per container ID, and the space requests
/// between peers. Each call returns the messages to send (`to: nil` means gossip to all);
/// the caller (`IPAMService`) sends them, persists `snapshot()` and waits where asked.
public struct Allocator: Sendable {
    /// A message for one peer, or (`to == nil`) the state to gossip.
    public typealias Send = (to: PeerName?, message: IPAMMessage)

    /// What an allocation or claim came to.
    public enum Outcome: Equatable, Sendable {
        case done(Allocation)
        /// Not possible yet; retry after the next change. The text says what it waits for.
        case waiting(String)
        case failed(IPAMError)
    }

    public let me: PeerName
    public let range: Subnet
    public let mode: BootstrapMode
    public internal(set) var ring: Ring { didSet { if ring != oldValue { needsSnapshot = true } } }
    public internal(set) var paxos: Paxos { didSet { if paxos != oldValue { needsSnapshot = true } } }
    /// Container ID → its addresses here.
    public internal(set) var allocations: [String: [Allocation]] = [:]
    /// Address → container ID, for every allocation here.
    private(set) var holders: [UInt32: String] = [:]
    /// Nicknames of peers that own or owned ring space. They go to disk with the next snapshot
    /// (gossip brings them back after a crash): a mesh of a hundred forming must not write and
    /// fsync a snapshot for every name it learns.
    public internal(set) var nicknames: [PeerName: String] = [:]
    /// Peers whose ring we refused, and why.
    public private(set) var conflicts: [PeerName: Conflict] = [:]

    /// A ring we refused: why, and whether it beats ours (then we stop allocating, since our
    /// ring is the one that is wrong).
    public struct Conflict: Hashable, Sendable {
        public var reason: String
        public var theirsWins: Bool
    }

    /// Outstanding space requests: subnet → (donor, when sent).
    private var requests: [Subnet: (donor: PeerName, sent: UInt64)] = [:]
    /// Donors that said no: subnet → donor → until when we leave them alone.
    private var denials: [Subnet: [PeerName: UInt64]] = [:]
    /// Where the next search for a free address starts, so freed addresses rest a while.
    private var cursor: UInt32
    /// When this peer last proposed (nil: not yet).
    private var lastProposal: UInt64?
    private var startedAt: UInt64 = 0
    /// True when this peer's free counts in the ring may be out of date.
    private var freeCountsStale = false

    /// False while a seeded ring this peer built itself (with no state to restore) has not been
    /// confirmed by another peer holding the same ring: the peer may have lost its state and
    /// given space away before, so it must learn the ring's present versions first.
    public internal(set) var confirmed = true

    /// True when the ring, the agreement or the nicknames changed since the last snapshot.
    public internal(set) var needsSnapshot = true
    /// Allocation changes not yet written to the journal, oldest first.
    public internal(set) var journal: [JournalRecord] = []
    /// The sequence number of the last allocation change.
    public internal(set) var sequence: UInt64 = 0

    /// How long a space request may go unanswered before another donor is asked.
    public static let requestTimeout: UInt64 = 3_000_000_000
    /// How long a donor that refused is left alone.
    public static let denialPause: UInt64 = 10_000_000_000
    /// How long Paxos waits for a decision before proposing again (plus a per-peer offset).
    public static let reproposeInterval: UInt64 = 3_000_000_000
    /// How long the first proposal waits to hear from every expected peer.
    public static let gatherInterval: UInt64 = 10_000_000_000

    public init(me: PeerName, range: Subnet, mode: BootstrapMode) {
        self.me = me
        self.range = range
        self.mode = mode
        ring = Ring(start: range.start, end: range.end)
        let quorum = if case let .consensus(peers) = mode { peers / 2 + 1 } else { 1 }
        paxos = Paxos(me: me, quorum: quorum)
        cursor = range.start
    }

    // MARK: lifecycle

    /// Starts the agreement (or builds the seeded ring) unless a ring is already known.
    public mutating func start(now: UInt64) -> [Send] {
        guard !ring.isDivided else { return [] }
        switch mode {
        case let .seed(peers):
            ring = Ring(start: range.start, end: range.end, dividedAmong: peers)
            confirmed = peers == [me]
        case .consensus:
            // Wait to hear from the expected peers (or one interval) before proposing, so the
            // ring is divided among all of them rather than the first quorum.
            startedAt = now
            paxos.join()
            proposeIfDue(now: now)
        case .observer:
            break
        }
        return [gossip()]
    }

    /// Periodic work: re-propose a stalled agreement, forget stale requests, report free counts.
    public mutating func tick(now: UInt64) -> [Send] {
        var sends: [Send] = []
        if proposeIfDue(now: now) { sends.append(gossip()) }
        requests = requests.filter { now &- $0.value.sent < Self.requestTimeout }
        for (subnet, until) in denials { denials[subnet] = until.filter { $0.value > now } }
        if freeCountsStale {
            freeCountsStale = false
            if reportFree() { sends.append(gossip()) }
        }
        return sends
    }

    /// True once the ring has been divided (by agreement, seeds, or gossip).
    public var isReady: Bool { ring.isDivided && confirmed }

    /// The state to gossip: the ring, the agreement while no ring exists, and known nicknames.
    public func gossip() -> Send {
        (nil, .state(ring: ring, paxos: ring.isDivided ? [:] : paxos.knows, nicknames: nicknames))
    }

    /// Records nicknames learned from the topology.
    public mutating func learn(nicknames known: [PeerName: String]) {
        for (name, nick) in known where nicknames[name] != nick { nicknames[name] = nick }
    }

    // MARK: allocation

    /// Gives `id` an address in `subnet` (the whole range when nil): the one it already has
    /// there, or a free one this peer owns, or (after asking a reachable peer for space) one of
    /// the donated ones. `connected` are the peers with a connection to this one: one that is
    /// not reachable yet has only just connected (its routes follow), so it is waited for.
    public mutating func allocate(id: String, in subnet: Subnet? = nil, now: UInt64,
                                  reachable: Set<PeerName>, connected: Set<PeerName> = []) -> (Outcome, [Send]) {
        let subnet = subnet ?? range
        guard range.contains(subnet) else {
            return (.failed(IPAMError(.invalid, "\(subnet) is not inside the IPAM range \(range)")), [])
        }
        if let held = allocations[id]?.first(where: { $0.subnet == subnet }) { return (.done(held), []) }
        guard ring.isDivided, confirmed else { return (.waiting(agreementStatus), []) }
        if let (peer, conflict) = conflicts.first(where: { $0.value.theirsWins }) {
            return (.failed(IPAMError(.conflict, "not allocating: \(conflict.reason) (with \(describe(peer)))")), [])
        }
        if let address = findFree(in: subnet) {
            let allocation = Allocation(address: address, subnet: subnet)
            record(allocation, for: id)
            cursor = address &+ 1
            return (.done(allocation), [])
        }
        return askForSpace(in: subnet, now: now, reachable: reachable, connected: connected)
    }

    /// Records that `id` holds `address` (a container restarted with its old address). Only
    /// an address this peer owns can be claimed; one outside the range is accepted and not
    /// tracked, as it is not IPAM's to give.
    public mutating func claim(id: String, address: UInt32, subnet: Subnet? = nil) -> Outcome {
        let subnet = subnet ?? range
        guard range.contains(address) else { return .done(Allocation(address: address, subnet: subnet)) }
        guard subnet.contains(address) else {
            return .failed(IPAMError(.invalid, "\(IPv4.format(address)) is not in \(subnet)"))
        }
        guard ring.isDivided, confirmed else { return .waiting(agreementStatus) }
        if let holder = holders[address] {
            guard holder == id else {
                return .failed(IPAMError(.conflict, "\(IPv4.format(address)) is already held by \(holder)"))
            }
            return .done(allocations[id]!.first { $0.address == address }!)
        }
        guard let owner = ring.owner(of: address), owner == me else {
            let owner = ring.owner(of: address).map(describe) ?? "nobody"
            return .failed(IPAMError(.conflict, "\(IPv4.format(address)) is owned by peer \(owner), not by this one"))
        }
        let allocation = Allocation(address: address, subnet: subnet)
        record(allocation, for: id)
        return .done(allocation)
    }

    /// Frees `id`'s address `address`, or all its addresses; returns what was freed.
    public mutating func free(id: String, address: UInt32? = nil) -> [Allocation] {
        guard let held = allocations[id] else { return [] }
        let freed = held.filter { address == nil || $0.address == address }
        let kept = held.filter { address != nil && $0.address != address }
        allocations[id] = kept.isEmpty ? nil : kept
        for a in freed {
            holders[a.address] = nil
            log(.release, id, a)
        }
        if !freed.isEmpty { freeCountsStale = true }
        return freed
    }

    /// Every address `id` holds here.
    public func lookup(id: String) -> [Allocation] { allocations[id] ?? [] }

    /// Addresses allocated here.
    public var allocatedCount: Int { holders.count }

    // MARK: messages

    /// Handles a message from `source`; returns true when the ring or agreement changed (so
    /// waiting requests should retry) and what to send. Throws for a ring we refuse.
    public mutating func receive(_ message: IPAMMessage, from source: PeerName, now: UInt64)
        throws(IPAMError) -> (changed: Bool, sends: [Send]) {
        switch message {
        case let .state(other, claims, nicks):
            for (name, nick) in nicks where nicknames[name] == nil { nicknames[name] = nick }
            return try merge(ring: other, claims: claims, from: source, now: now)
        case let .spaceRequest(subnet):
            if donate(in: subnet, to: source) { return (true, [gossip(), (source, gossip().message)]) }
            return (false, [(source, .spaceDenied(subnet))])
        case let .spaceDenied(subnet):
            if requests[subnet]?.donor == source { requests[subnet] = nil }
            denials[subnet, default: [:]][source] = now &+ Self.denialPause
            return (true, [])
        case let .handoff(other):
            let changed = try merge(ring: other, claims: [:], from: source, now: now)
            return (changed.changed, changed.sends + [(source, .handoffAck)])
        case .handoffAck:
            return (false, [])
        }
    }

    /// Folds in another peer's state. A ring with other seeds is refused, unless ours has never
    /// been used (no allocation anywhere we know of) and loses to theirs (more seeds, then the
    /// greater list): then ours gives way, so peers launched alone and connected later end up
    /// on one ring. A seeded peer never gives way: its seeds are what the operator said, and a
    /// mismatch is reported instead.
    private mutating func merge(ring other: Ring, claims: [PeerName: PaxosClaims], from source: PeerName, now: UInt64)
        throws(IPAMError) -> (changed: Bool, sends: [Send]) {
        var changed = false
        if other.isDivided {
            do {
                changed = try ring.merge(other)
                conflicts[source] = nil
                confirmed = true
            } catch let error {
                if case .differentSeeds = error, !mode.isSeed, allocations.isEmpty, ring.isUnused,
                   Self.yields(ring, to: other) {
                    ring = other
                    changed = true
                } else {
                    conflicts[source] = Conflict(reason: error.description, theirsWins: Self.yields(ring, to: other))
                    throw IPAMError(.conflict, error.description)
                }
            }
        } else if !ring.isDivided, !claims.isEmpty {
            changed = paxos.merge(claims)
            if case .consensus = mode, changed {
                paxos.join()
                _ = paxos.think()
                proposeIfDue(now: now)
            }
            decideIfAgreed()
        }
        if changed {  // new information: ask again, even donors that refused before
            requests.removeAll()
            denials.removeAll()
        }
        // Keep gossiping what changed (the mesh forwards the delta), and answer a peer that
        // has no ring yet (an observer, a newcomer) with ours.
        let answer = ring.isDivided && !other.isDivided
        return (changed, changed || answer ? [gossip()] : [])
    }

    /// Proposes when the agreement is due: first once every expected peer has been heard from
    /// (or 10 s after the start, so a missing peer does not stop the others), then again whenever a proposal stalled for an interval
    /// (plus a per-peer offset, so stalled proposers do not keep colliding).
    @discardableResult
    private mutating func proposeIfDue(now: UInt64) -> Bool {
        guard !ring.isDivided, case let .consensus(peers) = mode else { return false }
        let interval = Self.reproposeInterval + (me.rawValue % 2000) * 1_000_000
        let due = if let last = lastProposal { now &- last > interval }
            else { paxos.knows.count >= peers || now &- startedAt > Self.gatherInterval }
        guard due else { return false }
        paxos.propose()
        lastProposal = now
        decideIfAgreed()
        return true
    }

    /// The order between rings of different seeds: the one with fewer seeds, then the smaller
    /// seed list, gives way.
    static func yields(_ mine: Ring, to other: Ring) -> Bool {
        mine.seeds.count != other.seeds.count ? mine.seeds.count < other.seeds.count
            : mine.seeds.lexicographicallyPrecedes(other.seeds)
    }

    /// Divides the ring once the agreement has decided.
    private mutating func decideIfAgreed() {
        guard !ring.isDivided, let peers = paxos.decision else { return }
        ring = Ring(start: range.start, end: range.end, dividedAmong: peers)
    }

    /// What an allocation waits for before the ring exists.
    public var agreementStatus: String {
        if ring.isDivided && !confirmed {
            return "waiting to hear the seeded IPAM ring from another peer (this peer has no saved state)"
        }
        return switch mode {
        case .consensus:
            "waiting for agreement on the IPAM ring (quorum \(paxos.quorum), heard from \(paxos.knows.count))"
        case .seed: "waiting for the seeded IPAM ring"
        case .observer: "waiting to hear of the IPAM ring (this peer is an observer)"
        }
    }

    // MARK: space

    /// Asks the reachable peer with the most free space in `subnet` for some; waits while the
    /// owners of the rest are connected but not yet in the routes; fails at once when nobody
    /// reachable has any and the others are gone.
    private mutating func askForSpace(in subnet: Subnet, now: UInt64, reachable: Set<PeerName>,
                                      connected: Set<PeerName>) -> (Outcome, [Send]) {
        if let pending = requests[subnet], reachable.contains(pending.donor) {
            return (.waiting("waiting for space in \(subnet) from \(describe(pending.donor))"), [])
        }
        let estimates = freeEstimates(in: subnet)
        let paused = denials[subnet] ?? [:]
        let donors = estimates.filter { $0.key != me && $0.value >= 2 && reachable.contains($0.key) && paused[$0.key] == nil }
        guard let donor = donors.max(by: { ($0.value, $0.key) < ($1.value, $1.key) })?.key else {
            let unreachable = estimates.filter { $0.key != me && $0.value > 0 && !reachable.contains($0.key) }.keys.sorted()
            let joining = unreachable.filter(connected.contains)
            if !joining.isEmpty {
                let names = joining.map(describe).joined(separator: ", ")
                return (.waiting("no free address in \(subnet) here; waiting for routes to \(names) (connected, not yet in the routes)"), [])
            }
            if !unreachable.isEmpty {
                let names = unreachable.map(describe).joined(separator: ", ")
                return (.failed(IPAMError(.unavailable, "no free address in \(subnet) here; the rest belongs to unreachable peers \(names) (weft rmpeer them if they are gone)")), [])
            }
            return (.failed(IPAMError(.unavailable, "no free address left in \(subnet)")), [])
        }
        requests[subnet] = (donor, now)
        return (.waiting("asked \(describe(donor)) for space in \(subnet)"), [(donor, .spaceRequest(subnet))])
    }

    /// Each owner's free addresses in `subnet`, estimated from the ring's free counts (a range
    /// partly inside the subnet counts in proportion).
    func freeEstimates(in subnet: Subnet) -> [PeerName: UInt64] {
        var estimates: [PeerName: UInt64] = [:]
        for i in ring.entries.indices {
            let e = ring.entries[i]
            let size = ring.rangeSize(at: i)
            let from = max(UInt64(e.token), UInt64(subnet.start))
            let to = min(UInt64(e.token) + size, UInt64(subnet.end))
            guard from < to else { continue }
            estimates[e.owner, default: 0] += UInt64(e.free) * (to - from) / size
        }
        return estimates
    }

    /// Gives `requester` at most half of this peer's free space in `subnet`: the upper part of
    /// its largest free run. Returns false when there is not enough to share.
    private mutating func donate(in subnet: Subnet, to requester: PeerName) -> Bool {
        guard ring.isDivided, requester != me else { return false }
        var total: UInt64 = 0
        var best: (from: UInt32, to: UInt32) = (0, 0)
        for r in ring.ranges(ownedBy: me) {
            let from = max(r.from, subnet.start), to = min(r.to, subnet.end)
            guard from < to else { continue }
            var runStart = from
            for held in holders.keys.filter({ $0 >= from && $0 < to }).sorted() + [to] {
                if held > runStart {
                    total += UInt64(held - runStart)
                    if held - runStart > best.to - best.from { best = (runStart, held) }
                }
                runStart = held &+ 1
            }
        }
        let give = UInt32(min(UInt64(best.to - best.from), total / 2))
        guard give > 0, ring.give(from: best.to - give, to: best.to, to: requester, by: me) else { return false }
        _ = reportFree()
        return true
    }

    // MARK: administration

    /// `rmpeer`: takes over every range of `peer`, which must not be reachable. Returns how many
    /// addresses this peer gained.
    public mutating func takeOver(from peer: PeerName, reachable: Set<PeerName>) throws(IPAMError) -> (UInt64, [Send]) {
        guard peer != me else { throw IPAMError(.conflict, "cannot remove this peer itself (use weft reset)") }
        guard !reachable.contains(peer) else {
            throw IPAMError(.conflict, "peer \(describe(peer)) is still reachable; stop it (weft reset there) first")
        }
        guard ring.isDivided else { throw IPAMError(.unavailable, agreementStatus) }
        let moved = ring.transfer(from: peer, to: me)
        if moved > 0 { freeCountsStale = true }
        return (moved, moved > 0 ? [gossip()] : [])
    }

    /// `reset`: gives all this peer's space to a reachable peer (one that owns space, if any,
    /// else any). Returns the heir and what to send, or nil when there is nobody to give it to.
    public mutating func handOff(reachable: Set<PeerName>) -> (heir: PeerName, sends: [Send])? {
        guard ring.isDivided, ring.ownedCount(me) > 0 else { return nil }
        let candidates = reachable.subtracting([me]).sorted()
        guard let heir = candidates.first(where: { ring.ownedCount($0) > 0 }) ?? candidates.first else { return nil }
        _ = ring.transfer(from: me, to: heir)
        allocations.removeAll()
        holders.removeAll()
        journal.removeAll()
        return (heir, [(heir, .handoff(ring)), gossip()])
    }

    // MARK: internals

    private mutating func record(_ allocation: Allocation, for id: String) {
        allocations[id, default: []].append(allocation)
        holders[allocation.address] = id
        freeCountsStale = true
        log(.hold, id, allocation)
    }

    private mutating func log(_ op: JournalRecord.Op, _ id: String, _ allocation: Allocation) {
        sequence += 1
        journal.append(JournalRecord(sequence: sequence, op: op, id: id, cidr: allocation.cidr))
    }

    /// Puts back an allocation read from the state directory (idempotent).
    mutating func restoreAllocation(_ allocation: Allocation, for id: String) {
        guard holders[allocation.address] == nil else { return }
        allocations[id, default: []].append(allocation)
        holders[allocation.address] = id
        freeCountsStale = true
    }

    /// Takes back an allocation a journal record released.
    mutating func restoreRelease(_ address: UInt32, for id: String) {
        guard holders[address] == id else { return }
        holders[address] = nil
        allocations[id]?.removeAll { $0.address == address }
        if allocations[id]?.isEmpty == true { allocations[id] = nil }
    }

    /// A free address this peer owns in `subnet`'s usable part, searching from the cursor.
    private func findFree(in subnet: Subnet) -> UInt32? {
        let usable = subnet.usable
        let spans = ring.ranges(ownedBy: me).compactMap { r -> (UInt32, UInt32)? in
            let from = max(r.from, usable.from), to = min(r.to, usable.to)
            return from < to ? (from, to) : nil
        }
        for pass in 0..<2 {
            for (from, to) in spans {
                var x = pass == 0 ? max(from, cursor) : from
                let stop = pass == 0 ? to : min(to, cursor)
                while x < stop {
                    if holders[x] == nil { return x }
                    x += 1
                }
            }
        }
        return nil
    }

    /// Puts this peer's exact free counts into its ring entries; true when any changed.
    private mutating func reportFree() -> Bool {
        var counts: [UInt32: UInt32] = [:]
        let mine = ring.entries.indices.filter { ring.entries[$0].owner == me }
        for i in mine { counts[ring.entries[i].token] = UInt32(ring.rangeSize(at: i)) }
        for address in holders.keys {
            guard let i = ring.entryIndex(containing: address), ring.entries[i].owner == me else { continue }
            counts[ring.entries[i].token]! -= 1
        }
        return ring.report(free: counts, by: me)
    }

    /// A peer as people know it: `name(nickname)`.
    public func describe(_ peer: PeerName) -> String {
        nicknames[peer].map { "\(peer)(\($0))" } ?? peer.description
    }
}
