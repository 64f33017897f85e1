public import WeftTypes

/// Where Ethernet addresses live: behind this router's bridge (local) or behind a peer, learned
/// from the source addresses of frames, and forgotten after `ageing` without a frame. A MAC
/// that moves (a container re-attached elsewhere) follows the latest frame.
public struct ForwardingTable: Sendable {
    public enum Location: Equatable, Sendable {
        case local
        case peer(PeerName)
    }

    public let ageing: UInt64
    private var entries: [MAC: (location: Location, seen: UInt64)] = [:]

    /// `ageing` in nanoseconds (default 5 minutes).
    public init(ageing: UInt64 = 300_000_000_000) { self.ageing = ageing }

    /// Records that `mac` sent a frame from `location` at `now`.
    @inline(__always)
    public mutating func learn(_ mac: MAC, at location: Location, now: UInt64) {
        guard !mac.isGroup else { return }
        entries[mac] = (location, now)
    }

    /// Where `mac` is, if known and fresh.
    @inline(__always)
    public func lookup(_ mac: MAC, now: UInt64) -> Location? {
        guard let e = entries[mac], now < e.seen &+ ageing else { return nil }
        return e.location
    }

    /// Forgets every MAC behind `peer` (it left the mesh).
    public mutating func forget(peer: PeerName) {
        entries = entries.filter { $0.value.location != .peer(peer) }
    }

    /// Drops entries older than `ageing`.
    public mutating func expire(now: UInt64) {
        entries = entries.filter { now < $0.value.seen &+ ageing }
    }

    public var count: Int { entries.count }
}
