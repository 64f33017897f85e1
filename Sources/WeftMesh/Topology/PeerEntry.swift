public import WeftTypes

/// What the mesh knows of one peer: its identity and the connection set it last reported.
/// `version` grows with every change of the connection set; together with `uid` it orders
/// reports of the same peer.
///
/// Each entry also remembers at which version each connection last changed (and, for a while,
/// which were removed), so that a neighbour that holds an older version can be brought up to
/// date with a delta of what changed since, not the whole entry. That history is local
/// bookkeeping: two entries with the same report are equal whatever their history.
public struct PeerEntry: Hashable, Sendable {
    public var name: PeerName
    public var nickname: String
    public var uid: UInt64
    public var version: UInt64
    public var connections: [PeerName: ConnectionSummary]
    /// The version at which a connection last changed, for connections present and removed
    /// (a removed one's entry is its tombstone). A connection without one changed at or before
    /// `deltasFrom`.
    private var changedAt: [PeerName: UInt64] = [:]
    /// The lowest version a delta can start from: below it the removals are not known.
    private var deltasFrom: UInt64

    /// At most this many tombstones beyond the live connections; the oldest go first.
    static let tombstoneAllowance = 64

    public init(name: PeerName, nickname: String, uid: UInt64, version: UInt64,
                connections: [PeerName: ConnectionSummary] = [:]) {
        self.name = name
        self.nickname = nickname
        self.uid = uid
        self.version = version
        self.connections = connections
        deltasFrom = version
    }

    /// The whole entry as a gossip unit.
    public var fullUpdate: TopologyEntry {
        TopologyEntry(name: name, nickname: nickname, uid: uid, version: version, baseVersion: 0,
                      upserts: connections.values.sorted { $0.remote < $1.remote }, removals: [])
    }

    /// The entry's incarnation and version without its connections: what a new incarnation of
    /// the peer needs to move its version past this one.
    public var versionOnly: TopologyEntry {
        TopologyEntry(name: name, nickname: nickname, uid: uid, version: version, baseVersion: 0, upserts: [], removals: [])
    }

    /// What takes a holder of version `base` (of this incarnation) to ours: a delta when the
    /// history reaches back that far, else the whole entry.
    public func update(from base: UInt64) -> TopologyEntry {
        guard base >= deltasFrom, base < version else { return fullUpdate }
        var upserts: [ConnectionSummary] = []
        var removals: [PeerName] = []
        for (remote, at) in changedAt where at > base {
            if let c = connections[remote] { upserts.append(c) } else { removals.append(remote) }
        }
        return TopologyEntry(name: name, nickname: nickname, uid: uid, version: version, baseVersion: base,
                             upserts: upserts.sorted { $0.remote < $1.remote }, removals: removals.sorted())
    }

    /// Applies a delta (its base at or below our version) and records what it changed.
    mutating func apply(_ delta: TopologyEntry) {
        for r in delta.removals {
            // A removal of a connection never held since `deltasFrom` needs no tombstone.
            let held = connections.removeValue(forKey: r) != nil
            if held || changedAt[r] != nil { changedAt[r] = delta.version }
        }
        for u in delta.upserts {
            connections[u.remote] = u
            changedAt[u.remote] = delta.version
        }
        version = delta.version
        nickname = delta.nickname
        pruneTombstones()
    }

    /// Our own entry: the connection set becomes `new` at the next version.
    mutating func replaceConnections(_ new: [PeerName: ConnectionSummary]) {
        version += 1
        for (remote, c) in new where connections[remote] != c { changedAt[remote] = version }
        for remote in connections.keys where new[remote] == nil { changedAt[remote] = version }
        connections = new
        pruneTombstones()
    }

    private mutating func pruneTombstones() {
        let tombstones = changedAt.count - connections.count
        guard tombstones > Self.tombstoneAllowance else { return }
        let removed = changedAt.filter { connections[$0.key] == nil }.sorted { $0.value < $1.value }
        for (remote, at) in removed.prefix(tombstones - Self.tombstoneAllowance / 2) {
            changedAt[remote] = nil
            // A delta from before this removal would miss it.
            deltasFrom = max(deltasFrom, at)
        }
    }

    /// Name, UID and version: what orders reports of this peer, and a digest line.
    var stamp: PeerVersion { PeerVersion(name: name, uid: uid, version: version) }

    public static func == (lhs: PeerEntry, rhs: PeerEntry) -> Bool {
        lhs.name == rhs.name && lhs.nickname == rhs.nickname && lhs.uid == rhs.uid && lhs.version == rhs.version
            && lhs.connections == rhs.connections
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(uid)
        hasher.combine(version)
    }
}
