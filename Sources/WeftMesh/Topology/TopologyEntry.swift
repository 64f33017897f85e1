public import WeftTypes

/// The unit of topology gossip: one peer's report, either whole (`baseVersion == 0`) or as the
/// changes that take it from `baseVersion` to `version`. A change of one connection therefore
/// costs one connection's bytes on the wire, not the peer's whole connection list.
public struct TopologyEntry: Hashable, Sendable {
    public var name: PeerName
    public var nickname: String
    public var uid: UInt64
    public var version: UInt64
    /// 0 for a whole entry; otherwise the version these changes apply on top of.
    public var baseVersion: UInt64
    /// Connections added or changed (all connections in a whole entry).
    public var upserts: [ConnectionSummary]
    /// Connections removed (empty in a whole entry).
    public var removals: [PeerName]

    public init(name: PeerName, nickname: String, uid: UInt64, version: UInt64, baseVersion: UInt64,
                upserts: [ConnectionSummary], removals: [PeerName]) {
        self.name = name
        self.nickname = nickname
        self.uid = uid
        self.version = version
        self.baseVersion = baseVersion
        self.upserts = upserts
        self.removals = removals
    }

    /// True for a whole entry.
    public var isFull: Bool { baseVersion == 0 }

    /// Name, UID and version of the report.
    var stamp: PeerVersion { PeerVersion(name: name, uid: uid, version: version) }

    /// Joins two consecutive deltas of the same incarnation (`self` then `next`) into one, or
    /// returns nil if they do not follow on from each other.
    func followed(by next: TopologyEntry) -> TopologyEntry? {
        guard next.name == name, next.uid == uid, !next.isFull, next.baseVersion == version else {
            return next.isFull && next.uid == uid && next.version >= version ? next : nil
        }
        var byRemote = Dictionary(upserts.map { ($0.remote, $0) }, uniquingKeysWith: { $1 })
        var removed = Set(removals)
        for r in next.removals { byRemote[r] = nil; removed.insert(r) }
        for u in next.upserts { byRemote[u.remote] = u; removed.remove(u.remote) }
        if isFull { removed.removeAll() }
        return TopologyEntry(name: name, nickname: next.nickname, uid: uid, version: next.version,
                             baseVersion: baseVersion, upserts: byRemote.values.sorted { $0.remote < $1.remote },
                             removals: removed.sorted())
    }
}
