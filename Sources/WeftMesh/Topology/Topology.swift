public import WeftTypes

/// The mesh as this peer knows it: every reachable peer's latest report. A pure value: merging
/// gossip, updating our own connections and garbage collection take no clock and do no I/O.
///
/// Merging is by (version, uid): an entry replaces the one we hold only when it is newer, so
/// applying the same updates in any order, any number of times, gives the same topology.
public struct Topology: Sendable, Equatable {
    /// This peer's name; its entry is the one only we edit.
    public let localName: PeerName
    /// Every known peer, this one included.
    public private(set) var peers: [PeerName: PeerEntry]
    /// Who reports a connection to whom, as bit rows (kept in step with `peers`).
    public private(set) var links = LinkMatrix()

    /// What a merge did.
    public struct MergeResult: Sendable, Equatable {
        /// The entries that changed what we hold, as they should be gossiped onward.
        public var changed: [TopologyEntry] = []
        /// Peers whose deltas we could not apply (we lack the base), with the version we hold
        /// (0: none): ask the sender for what changed since.
        public var behind: [PeerVersion] = []
        /// True when our own entry had to move past a stale incarnation of ourselves.
        public var localBumped = false
        /// True when some peer lost a connection (only then can a peer become unreachable).
        public var lostConnections = false
        /// True when some peer's set of connections changed (not only an address or a nickname):
        /// only then can routes change.
        public var adjacencyChanged = false
    }

    public init(local: PeerIdentity) {
        localName = local.name
        peers = [local.name: PeerEntry(name: local.name, nickname: local.nickname, uid: local.uid, version: 1)]
        links.set(local.name, connections: [:])
    }

    public static func == (lhs: Topology, rhs: Topology) -> Bool {
        lhs.localName == rhs.localName && lhs.peers == rhs.peers
    }

    /// Stores `entry` whole (its links with it).
    private mutating func store(_ entry: PeerEntry) {
        links.set(entry.name, connections: entry.connections)
        peers[entry.name] = entry
    }

    private mutating func drop(_ name: PeerName) {
        peers[name] = nil
        links.set(name, connections: nil)
    }

    /// Our own entry.
    public var local: PeerEntry { peers[localName]! }

    /// Replaces our own connection set, bumps the version when it changed, and returns the delta
    /// to gossip (nil when nothing changed).
    public mutating func setLocalConnections(_ connections: [ConnectionSummary]) -> TopologyEntry? {
        var entry = local
        let new = Dictionary(connections.map { ($0.remote, $0) }, uniquingKeysWith: { $1 })
        guard new != entry.connections else { return nil }
        let upserts = new.values.filter { entry.connections[$0.remote] != $0 }.sorted { $0.remote < $1.remote }
        let removals = entry.connections.keys.filter { new[$0] == nil }.sorted()
        let base = entry.version
        entry.replaceConnections(new)
        store(entry)
        return TopologyEntry(name: localName, nickname: entry.nickname, uid: entry.uid, version: entry.version,
                             baseVersion: base, upserts: upserts, removals: removals)
    }

    /// Forgets what we hold about `name` when a live connection proves it runs as incarnation
    /// `uid` and we hold another: the new incarnation's own report replaces it. Returns the
    /// stale entry, which the caller hands to the new incarnation so it can move its version
    /// past it (peers that still hold the stale entry would otherwise keep it as newer).
    @discardableResult
    public mutating func noteIncarnation(of name: PeerName, uid: UInt64) -> PeerEntry? {
        guard name != localName, let known = peers[name], known.uid != uid else { return nil }
        drop(name)
        return known
    }

    /// Merges gossip. See `MergeResult`.
    public mutating func merge(_ entries: [TopologyEntry]) -> MergeResult {
        var result = MergeResult()
        for e in entries {
            if e.name == localName {
                // A report of ourselves from an earlier incarnation: move our version past it
                // so our current report wins everywhere.
                var me = local
                // Beyond the limit (decoders refuse it): stepping past it would overflow.
                if e.uid != me.uid, e.version >= me.version, VersionLimit.accepts(e.version) {
                    me.version = e.version + 1
                    peers[localName] = me
                    result.localBumped = true
                    result.changed.append(me.fullUpdate)
                }
                continue
            }
            guard let known = peers[e.name]?.stamp else {
                if e.isFull {
                    store(PeerEntry(e))
                    result.changed.append(e)
                    result.adjacencyChanged = true
                } else {
                    result.behind.append(PeerVersion(name: e.name, uid: 0, version: 0))
                }
                continue
            }
            guard e.stamp.supersedes(known) else { continue }
            if e.isFull {
                let entry = PeerEntry(e), held = peers[e.name]!.connections
                result.lostConnections = result.lostConnections || held.keys.contains { entry.connections[$0] == nil }
                result.adjacencyChanged = result.adjacencyChanged || !Self.sameAdjacency(held, entry.connections)
                store(entry)
                result.changed.append(e)
            } else if e.uid == known.uid, e.baseVersion <= known.version {
                // A delta (base, v] brings any state at a version in [base, v] to v. The entry is
                // taken out while it changes, so the delta edits its connections in place.
                var entry = peers.removeValue(forKey: e.name)!
                result.lostConnections = result.lostConnections || e.removals.contains { entry.connections[$0] != nil }
                result.adjacencyChanged = result.adjacencyChanged || result.lostConnections
                    || e.upserts.contains { entry.connections[$0.remote]?.established != $0.established }
                entry.apply(e)
                peers[e.name] = entry
                links.apply(e)
                result.changed.append(e)
            } else {
                result.behind.append(known)
            }
        }
        return result
    }

    /// True when two connection sets join the same peers the same way (addresses aside).
    static func sameAdjacency(_ a: [PeerName: ConnectionSummary], _ b: [PeerName: ConnectionSummary]) -> Bool {
        a.count == b.count && a.allSatisfy { b[$0.key]?.established == $0.value.established }
    }

    /// What takes a neighbour holding `held` (version 0: nothing) to what we hold, for each
    /// entry we hold newer: a delta where our history allows, else whole (answering a request).
    public func updates(since held: [PeerVersion]) -> [TopologyEntry] {
        held.compactMap { h in
            guard let entry = peers[h.name], h.version == 0 || entry.stamp.supersedes(h) else { return nil }
            return h.uid == entry.uid ? entry.update(from: h.version) : entry.fullUpdate
        }
    }

    /// Every entry whole, ours first (the complete state for the periodic exchange).
    public func allWholeEntries() -> [TopologyEntry] {
        [local.fullUpdate] + peers.values.filter { $0.name != localName }.sorted { $0.name < $1.name }.map(\.fullUpdate)
    }

    /// (name, uid, version) of every peer we hold.
    public func digest() -> [PeerVersion] {
        peers.values.map(\.stamp).sorted { $0.name < $1.name }
    }

    /// The peer count and a checksum of every (name, uid, version) we hold, independent of
    /// order: equal on two peers that hold the same versions (see `TopologyMessage.summary`).
    public func summary() -> (peers: Int, checksum: UInt64) {
        var sum: UInt64 = 0
        for p in peers.values {
            var mix = SplitMix64(seed: p.name.rawValue &* 0x9E37_79B9_7F4A_7C15 ^ p.uid ^ (p.version &* 0xBF58_476D_1CE4_E5B9))
            sum = sum &+ mix.next()
        }
        return (peers.count, sum)
    }

    /// Compares a neighbour's digest with what we hold: the entries it lacks or holds older (as
    /// deltas from the version it holds where our history reaches back that far), and the names
    /// we lack or hold older.
    public func difference(from digest: [PeerVersion]) -> (theyNeed: [TopologyEntry], weNeed: [PeerVersion]) {
        var theyHave: [PeerName: PeerVersion] = [:]
        for d in digest { theyHave[d.name] = d }
        var theyNeed: [TopologyEntry] = []
        for entry in peers.values.sorted(by: { $0.name < $1.name }) {
            guard let d = theyHave[entry.name] else { theyNeed.append(entry.fullUpdate); continue }
            guard entry.stamp.supersedes(d) else { continue }
            theyNeed.append(d.uid == entry.uid ? entry.update(from: d.version) : entry.fullUpdate)
        }
        let weNeed = digest.compactMap { d -> PeerVersion? in
            // A stale incarnation of ourselves is fetched too: merging it moves our version past it.
            if d.name == localName { return d.uid != local.uid && d.version >= local.version ? PeerVersion(name: d.name, uid: 0, version: 0) : nil }
            guard let held = peers[d.name] else { return PeerVersion(name: d.name, uid: 0, version: 0) }
            return d.supersedes(held.stamp) ? held.stamp : nil
        }
        return (theyNeed, weNeed)
    }

    /// True when `peer` is reachable from us over connections both ends report established
    /// (as `Routes` would have it).
    public func reaches(_ peer: PeerName) -> Bool {
        guard let target = links.slot(of: peer), let root = links.slot(of: localName) else { return false }
        return links.reaches(target, from: root)
    }

    /// Removes peers we can no longer reach over any reported connection and returns them.
    public mutating func garbageCollect() -> [PeerName] {
        guard let root = links.slot(of: localName) else { return [] }
        let reached = links.reachable(from: root)
        let gone = peers.keys.filter { name in
            links.slot(of: name).map { !LinkMatrix.contains(reached, $0) } ?? true
        }.sorted()
        for g in gone { drop(g) }
        return gone
    }
}

extension PeerEntry {
    /// A peer entry from a whole gossip entry.
    init(_ e: TopologyEntry) {
        self.init(name: e.name, nickname: e.nickname, uid: e.uid, version: e.version,
                  connections: Dictionary(e.upserts.map { ($0.remote, $0) }, uniquingKeysWith: { $1 }))
    }
}
