public import WeftTypes

/// Who this router is: a stable name, a human nickname and a UID that is new on every start,
/// so that peers can tell a restarted router from its previous incarnation.
public struct PeerIdentity: Sendable, Hashable {
    public let name: PeerName
    public let nickname: String
    /// Random and non-zero, drawn at each start.
    public let uid: UInt64

    public init(name: PeerName, nickname: String, uid: UInt64) {
        self.name = name
        self.nickname = nickname
        self.uid = uid
    }

    /// `name(nickname)`, the way status output names a peer.
    public var label: String { "\(name)(\(nickname))" }
}
