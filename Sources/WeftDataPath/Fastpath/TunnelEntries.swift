public import WeftTypes

/// What the fast path programs: in the VXLAN device's table, a MAC → the underlay address of
/// the peer behind it; in the bridge's table, MACs pinned to the VXLAN port (for peers the fast
/// path works with; the others' MACs stay learned on the sleeve's port).
public struct TunnelEntries: Equatable, Sendable {
    public var remote: [MAC: UInt32]
    public var pinned: Set<MAC>

    public init(remote: [MAC: UInt32] = [:], pinned: Set<MAC> = []) {
        self.remote = remote
        self.pinned = pinned
    }
}
