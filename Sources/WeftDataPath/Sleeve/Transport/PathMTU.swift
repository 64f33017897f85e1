/// How large a datagram the underlay carries towards one neighbour, learned by probing: with
/// each heartbeat goes a probe padded to the size under test, and the neighbour reports in its
/// heartbeats the largest probe it received in the last 3 s. Three unanswered probes in a row
/// (while small heartbeats still pass) step the size down; every 30 s the next larger size is
/// tried again. Routers on the path need not send ICMP: a bridge or a firewall that drops big
/// packets silently is found the same way.
public struct PathMTU: Sendable, Equatable {
    /// The datagram sizes tried, largest first (1472: a 1500-byte IPv4 underlay).
    public static let sizes = [1472, 1400, 1280, 1024, 548]
    static let raiseInterval: UInt64 = 30_000_000_000

    private var index = 0
    private var misses = 0
    private var lastRaise: UInt64 = 0
    /// When a probe of the next larger size went out (its answer may come within 3 s).
    private var raiseProbe: UInt64?

    public init() {}

    /// The largest datagram to send on this path now.
    public var datagram: Int { Self.sizes[index] }

    /// The probe sizes to send this tick: the current size, and every 30 s the next larger.
    public mutating func probes(now: UInt64) -> [Int] {
        guard index > 0, now >= lastRaise &+ Self.raiseInterval else { return [datagram] }
        lastRaise = now
        raiseProbe = now
        return [datagram, Self.sizes[index - 1]]
    }

    /// Takes in, once per tick, the largest probe the neighbour reported receiving in its last
    /// 3 s (0: none), while its small heartbeats get through. Returns true when the size changed.
    public mutating func update(acknowledged: Int, now: UInt64) -> Bool {
        if let sent = raiseProbe {
            if index > 0, acknowledged >= Self.sizes[index - 1] {
                index -= 1
                misses = 0
                raiseProbe = nil
                return true
            }
            if now >= sent &+ 3_000_000_000 { raiseProbe = nil }
        }
        if acknowledged >= datagram {
            misses = 0
            return false
        }
        misses += 1
        guard misses >= 3, index + 1 < Self.sizes.count else { return false }
        index += 1
        misses = 0
        lastRaise = now
        return true
    }
}
