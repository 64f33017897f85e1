import Testing
import WeftMesh
import WeftTypes

@Suite struct ConnectionTargetsTests {
    static let second: UInt64 = 1_000_000_000

    /// Failures back off exponentially with jitter: each wait is within [interval/2, 1.5·interval)
    /// and the interval grows ×1.5 up to two minutes.
    @Test func backoffGrowsWithJitter() {
        var targets = ConnectionTargets()
        var rng = SplitMix64(seed: 3)
        targets.addDirect(["10.0.0.1:6783"], replace: false, now: 0)
        var now: UInt64 = 0
        var interval = Self.second
        for _ in 0..<20 {
            #expect(targets.due(now: now, connected: [], budget: 10) == ["10.0.0.1:6783"])
            targets.failed("10.0.0.1:6783", reason: "refused", permanent: false, now: now, rng: &rng)
            let next = targets.targets["10.0.0.1:6783"]!.nextAttempt
            #expect(next >= now + interval / 2 && next < now + interval * 3 / 2)
            #expect(targets.due(now: next - 1, connected: [], budget: 10).isEmpty)
            now = next
            interval = min(120 * Self.second, interval * 3 / 2)
        }
    }

    /// forget stops the retries; --replace swaps the direct list.
    @Test func forgetAndReplace() {
        var targets = ConnectionTargets()
        targets.addDirect(["a:1", "b:1"], replace: false, now: 0)
        targets.forget(["a:1"])
        #expect(targets.targets.keys.sorted() == ["b:1"])
        targets.addDirect(["c:1"], replace: true, now: 0)
        #expect(targets.targets.keys.sorted() == ["c:1"])
    }

    /// A connection to ourselves is never retried; a peer already connected is not dialled again.
    @Test func permanentAndConnected() {
        var targets = ConnectionTargets()
        var rng = SplitMix64(seed: 1)
        targets.addDirect(["self:1", "b:1"], replace: false, now: 0)
        _ = targets.due(now: 0, connected: [], budget: 10)
        targets.failed("self:1", reason: "self", permanent: true, now: 0, rng: &rng)
        targets.connected("b:1", peer: PeerName(rawValue: 2), now: 0)
        targets.disconnected("b:1", reason: "closed", now: 70 * Self.second, rng: &rng)
        // It lived over a minute: retried at once, unless the peer is connected another way.
        #expect(targets.due(now: 70 * Self.second, connected: [PeerName(rawValue: 2)], budget: 10).isEmpty)
        #expect(targets.due(now: 70 * Self.second, connected: [], budget: 10) == ["b:1"])
        #expect(targets.due(now: 1000 * Self.second, connected: [], budget: 10).isEmpty)
    }

    /// Discovered targets follow the topology; the budget caps dials (the connection limit).
    @Test func discoveryAndBudget() {
        var targets = ConnectionTargets()
        targets.setDiscovered(["x:1": PeerName(rawValue: 1), "y:1": PeerName(rawValue: 2)], local: PeerName(rawValue: 0), now: 0)
        #expect(targets.due(now: 0, connected: [], budget: 1).count == 1)
        targets.setDiscovered(["y:1": PeerName(rawValue: 2)], local: PeerName(rawValue: 0), now: 0)
        #expect(targets.targets.count >= 1)
    }

    /// Of two peers that discover each other, the one with the smaller name dials first; the
    /// other dials only if no connection came by then.
    @Test func smallerNameDialsFirst() {
        var targets = ConnectionTargets()
        targets.setDiscovered(["lo:1": PeerName(rawValue: 1), "hi:1": PeerName(rawValue: 9)], local: PeerName(rawValue: 5), now: 0)
        #expect(targets.due(now: 0, connected: [], budget: 10) == ["hi:1"])
        #expect(targets.due(now: ConnectionTargets.deferToSmallerName, connected: [], budget: 10) == ["lo:1"])
    }

    /// The accept bucket lets a burst through, then one per refill.
    @Test func tokenBucket() {
        var bucket = TokenBucket(capacity: 3, refillNanos: 50_000_000, now: 0)
        #expect((0..<5).map { _ in bucket.take(now: 0) } == [true, true, true, false, false])
        let later = [50_000_000, 60_000_000, 10 * Self.second].map { bucket.take(now: $0) }
        #expect(later == [true, false, true])
    }
}
