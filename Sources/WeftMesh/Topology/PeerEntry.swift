public import WeftTypes

/// What the mesh knows of one peer: its identity and the connection set it last reported.
/// `version` grows with every change of the connection set; together with `uid` it orders
/// reports of the same peer.
public struct PeerEntry: Hashable, Sendable {
    public var name: PeerName
    public var nickname: String
    public var uid: UInt64
    public var version: UInt64
    public var connections: [PeerName: ConnectionSummary]

    public init(name: PeerName, nickname: String, uid: UInt64, version: UInt64,
                connections: [PeerName: ConnectionSummary] = [:]) {
        self.name = name
        self.nickname = nickname
        self.uid = uid
        self.version = version
        self.connections = connections
    }

    /// The whole entry as a gossip unit.
    public var fullUpdate: TopologyEntry {
        TopologyEntry(name: name, nickname: nickname, uid: uid, version: version, baseVersion: 0,
                      upserts: connections.values.sorted { $0.remote < $1.remote }, removals: [])
    }

    /// Name, UID and version: what orders reports of this peer, and a digest line.
    var stamp: PeerVersion { PeerVersion(name: name, uid: uid, version: version) }
}
