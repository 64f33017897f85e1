public import WeftTypes

/// Which peers the fast path works with, from the probes: a peer is up while a probe from it
/// arrived within `timeout` and that probe said it hears ours (so both directions work). Pure:
/// times (seconds on a monotonic clock) are handed in.
public struct FastpathPaths: Sendable {
    public static let timeout: Double = 3

    struct Path {
        var heardAt: Double?
        var hearsUs = false
        var up = false
    }

    private var paths: [PeerName: Path] = [:]
    /// The peers to probe: neighbours that have the fast path.
    public private(set) var candidates: Set<PeerName> = []

    public init() {}

    /// Sets the peers to probe; the others go down at the next `evaluate`.
    public mutating func set(candidates: Set<PeerName>) {
        self.candidates = candidates
    }

    /// Takes in a probe from a candidate.
    public mutating func received(from peer: PeerName, hearsUs: Bool, now: Double) {
        guard candidates.contains(peer) else { return }
        paths[peer, default: Path()].heardAt = now
        paths[peer, default: Path()].hearsUs = hearsUs
    }

    /// Whether probes from `peer` arrive (what our probes to it say).
    public func hears(_ peer: PeerName, now: Double) -> Bool {
        guard let at = paths[peer]?.heardAt else { return false }
        return now - at < Self.timeout
    }

    /// Updates who is up; returns the peers that changed, with their new state.
    public mutating func evaluate(now: Double) -> [(peer: PeerName, up: Bool)] {
        var changes: [(peer: PeerName, up: Bool)] = []
        for (peer, path) in paths {
            let up = candidates.contains(peer) && hears(peer, now: now) && path.hearsUs
            if up != path.up { changes.append((peer, up)) }
            if candidates.contains(peer) { paths[peer]?.up = up } else { paths[peer] = nil }
        }
        return changes.sorted { $0.peer < $1.peer }
    }

    /// The peers the fast path works with now.
    public var up: Set<PeerName> { Set(paths.filter(\.value.up).keys) }
}
