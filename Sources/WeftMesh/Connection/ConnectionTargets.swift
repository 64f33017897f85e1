public import WeftTypes

/// The addresses this router tries to keep a connection to, and when to try each next.
///
/// Direct targets come from `launch` and `connect`; discovered targets from the topology (every
/// peer we know of and are not connected to). Failed attempts back off exponentially with
/// jitter (the next try at `interval/2 + random(interval)`, the interval growing ×1.5 from
/// 1 s to 2 min); a connection that lived a minute or more is retried at once when it drops.
/// Pure: time (nanoseconds on a monotonic clock) and randomness are passed in.
public struct ConnectionTargets: Sendable {
    public enum Kind: String, Sendable { case direct, discovered }
    public enum State: String, Sendable { case waiting, connecting, connected, failed }

    public struct Target: Sendable, Equatable {
        public var address: String
        public var kind: Kind
        public var state: State = .waiting
        /// The peer last reached at this address, once known.
        public var peer: PeerName?
        public var attempts = 0
        public var lastError: String?
        /// True after a failure retrying cannot fix (a connection to ourselves).
        public var permanent = false
        var interval: UInt64 = 0
        public var nextAttempt: UInt64 = 0
        var connectedAt: UInt64 = 0
    }

    static let initialInterval: UInt64 = 1_000_000_000
    static let maxInterval: UInt64 = 120_000_000_000
    static let resetAfter: UInt64 = 60_000_000_000

    public private(set) var targets: [String: Target] = [:]

    public init() {}

    /// Adds direct targets (replacing the direct list if `replace`); known addresses become
    /// direct and are tried at once.
    public mutating func addDirect(_ addresses: [String], replace: Bool, now: UInt64) {
        if replace {
            let keep = Set(addresses)
            for (a, t) in targets where t.kind == .direct && !keep.contains(a) { targets[a] = nil }
        }
        for a in addresses {
            var t = targets[a] ?? Target(address: a, kind: .direct)
            t.kind = .direct
            if t.state == .failed || t.state == .waiting { t.state = .waiting; t.nextAttempt = now; t.permanent = false }
            targets[a] = t
        }
    }

    /// Stops trying `addresses`; existing connections stay.
    public mutating func forget(_ addresses: [String]) {
        for a in addresses { targets[a] = nil }
    }

    /// How long a discovered peer with a smaller name than ours gets to dial us before we dial
    /// it: two peers that learn of each other at once would otherwise both dial, and one of the
    /// two connections would be thrown away (with its handshake and a topology change each side).
    public static let deferToSmallerName: UInt64 = 2_000_000_000

    /// Replaces the discovered targets: `candidates` maps address to the peer expected there.
    /// A new one is due at once if its peer's name is greater than `local`, else a moment later.
    public mutating func setDiscovered(_ candidates: [String: PeerName], local: PeerName, now: UInt64) {
        for (a, t) in targets where t.kind == .discovered && candidates[a] == nil && t.state != .connecting {
            targets[a] = nil
        }
        for (a, peer) in candidates where targets[a] == nil {
            let due = peer > local ? now : now + Self.deferToSmallerName
            targets[a] = Target(address: a, kind: .discovered, peer: peer, nextAttempt: due)
        }
    }

    /// The targets to dial now (at most `budget`), marked as connecting. A target whose peer is
    /// already connected (perhaps through its own inbound connection) waits.
    public mutating func due(now: UInt64, connected: Set<PeerName>, budget: Int) -> [String] {
        var result: [String] = []
        for a in targets.keys.sorted() where result.count < budget {
            guard var t = targets[a], !t.permanent, t.state == .waiting || t.state == .failed,
                  t.nextAttempt <= now else { continue }
            if let p = t.peer, connected.contains(p) { continue }
            t.state = .connecting
            t.attempts += 1
            targets[a] = t
            result.append(a)
        }
        return result
    }

    /// A dial or handshake to `address` failed.
    public mutating func failed(_ address: String, reason: String, permanent: Bool, now: UInt64,
                                rng: inout some RandomNumberGenerator) {
        guard var t = targets[address] else { return }
        t.state = .failed
        t.lastError = reason
        t.permanent = permanent
        t.interval = t.interval == 0 ? Self.initialInterval : min(Self.maxInterval, t.interval * 3 / 2)
        t.nextAttempt = now + t.interval / 2 + UInt64.random(in: 0..<t.interval, using: &rng)
        targets[address] = t
    }

    /// The connection to `address` reached `peer`.
    public mutating func connected(_ address: String, peer: PeerName, now: UInt64) {
        guard var t = targets[address] else { return }
        t.state = .connected
        t.peer = peer
        t.lastError = nil
        t.connectedAt = now
        targets[address] = t
    }

    /// An established connection to `address` ended: retry at once if it had lived long,
    /// otherwise back off as after a failure.
    public mutating func disconnected(_ address: String, reason: String, now: UInt64,
                                      rng: inout some RandomNumberGenerator) {
        guard let t = targets[address] else { return }
        if now - t.connectedAt >= Self.resetAfter {
            targets[address]?.state = .waiting
            targets[address]?.interval = 0
            targets[address]?.nextAttempt = now
            targets[address]?.lastError = reason
        } else {
            failed(address, reason: reason, permanent: false, now: now, rng: &rng)
        }
    }

    /// A target that is connecting but whose peer turned out to be connected already goes back
    /// to waiting without counting as a failure.
    public mutating func superseded(_ address: String, peer: PeerName) {
        targets[address]?.state = .waiting
        targets[address]?.peer = peer
    }
}
