import NIOCore
import Testing
import WeftDNS
import WeftMesh
import WeftTypes

@Suite struct DNSStoreTests {
    static let a = PeerName(rawValue: 0xA), b = PeerName(rawValue: 0xB), c = PeerName(rawValue: 0xC)
    static let web = DNSName("web.weft.local.")!

    /// A record added on one peer reaches another through the wire codec; a removal follows as
    /// a tombstone that a stale copy cannot undo.
    @Test func addRemoveAndStaleCopies() throws {
        var sa = DNSStore(me: Self.a), sb = DNSStore(me: Self.b)
        let addedAdded = sa.add(hostname: Self.web, address: 1, containerID: "c1", now: 100)
        let added = try #require(addedAdded)
        let twice = sa.add(hostname: DNSName("WEB.weft.local")!, address: 1, containerID: "c1", now: 100)
        #expect(twice == nil)
        let wire = try DNSGossip.decode(DNSGossip.encode([added])[0])
        let merged = sb.merge(wire, now: 100)
        #expect(merged.new.count == 1)
        #expect(sb.addresses(of: DNSName("Web.Weft.Local")!) == [1])
        let tombstones = sa.remove(containerID: "c1", now: 101)
        #expect(tombstones.count == 1 && tombstones[0].tombstone)
        _ = sb.merge(tombstones, now: 101)
        #expect(sb.addresses(of: Self.web).isEmpty)
        // The live copy arriving late changes nothing.
        let late = sb.merge([added], now: 102)
        #expect(late.new.isEmpty)
        #expect(!sb.contains(Self.web))
    }

    /// Merging is order-independent: five replicas fed the same records in different orders,
    /// duplicated, end up equal.
    @Test func mergeConverges() {
        var rng = SplitMix64(seed: 7)
        var origins = [Self.a, Self.b, Self.c].map { DNSStore(me: $0) }
        var history: [DNSEntry] = []
        for step in 0..<300 {
            let i = Int(rng.next() % 3)
            let host = DNSName("h\(rng.next() % 5).weft.local")!
            if rng.next() % 3 == 0 {
                history += origins[i].remove(containerID: "c\(rng.next() % 4)", now: Double(step))
            } else if let e = origins[i].add(hostname: host, address: UInt32(rng.next() % 6), containerID: "c\(rng.next() % 4)",
                                             now: Double(step)) {
                history.append(e)
            }
        }
        var replicas = (0..<5).map { DNSStore(me: PeerName(rawValue: 0x100 + UInt64($0))) }
        for r in replicas.indices {
            var order = history + history.prefix(50)
            order.shuffle(using: &rng)
            _ = replicas[r].merge(order, now: 400)
        }
        var truthStore = DNSStore(me: PeerName(rawValue: 0x999))
        _ = truthStore.merge(origins.flatMap(\.all), now: 400)
        let truth = truthStore.live
        #expect(truth.count == origins.map(\.live.count).reduce(0, +))
        for r in replicas { #expect(r.live == truth) }
    }

    /// A peer that lost its state gets its old records back from gossip: live ones it does not
    /// hold are answered with tombstones, and its own newer records outrank old tombstones.
    @Test func ownRecordsAreCorrected() throws {
        var before = DNSStore(me: Self.a), other = DNSStore(me: Self.b)
        let oldAdded = before.add(hostname: Self.web, address: 1, containerID: "c1", now: 100)
        let old = try #require(oldAdded)
        _ = other.merge([old], now: 100)
        var after = DNSStore(me: Self.a)
        let (new, corrections) = after.merge(other.all, now: 200)
        #expect(new.isEmpty && corrections.count == 1 && corrections[0].tombstone && corrections[0].version > old.version)
        _ = other.merge(corrections, now: 200)
        #expect(!other.contains(Self.web))
        // Registered again: a newer live version wins over the tombstone everywhere.
        let againAdded = after.add(hostname: Self.web, address: 1, containerID: "c1", now: 300)
        let again = try #require(againAdded)
        _ = other.merge([again], now: 300)
        #expect(other.addresses(of: Self.web) == [1])
    }

    /// Records of a peer that is unreachable stay through a short absence and go after the
    /// grace period, and are refused while it stays away; it coming back restores them.
    @Test func departedPeers() throws {
        var sa = DNSStore(me: Self.a), sb = DNSStore(me: Self.b, grace: 60)
        let eAdded = sa.add(hostname: Self.web, address: 1, containerID: "c1", now: 0)
        let e = try #require(eAdded)
        _ = sb.merge([e], now: 0)
        sb.update(reachable: [], now: 10)
        let early = sb.expire(now: 30)
        #expect(early == 0 && sb.contains(Self.web))
        let late = sb.expire(now: 71)
        #expect(late == 1 && !sb.contains(Self.web))
        let refused = sb.merge([e], now: 72)
        #expect(refused.new.isEmpty)
        sb.update(reachable: [Self.a], now: 80)
        let back = sb.merge([e], now: 80)
        #expect(back.new.count == 1)
    }

    /// Old tombstones are forgotten, and the floor they leave keeps older copies out.
    @Test func tombstoneExpiry() throws {
        var sa = DNSStore(me: Self.a), sb = DNSStore(me: Self.b, tombstoneLifetime: 100)
        let eAdded = sa.add(hostname: Self.web, address: 1, containerID: "c1", now: 0)
        let e = try #require(eAdded)
        _ = sb.merge([e] + sa.remove(containerID: "c1", now: 1), now: 1)
        #expect(sb.all.count == 1)
        let expired = sb.expire(now: 200)
        #expect(expired == 1 && sb.all.isEmpty)
        let stale = sb.merge([e], now: 201)
        #expect(stale.new.isEmpty)
    }

    /// Reverse index: every live name of an address.
    @Test func reverseIndex() {
        var s = DNSStore(me: Self.a)
        _ = s.add(hostname: Self.web, address: 5, containerID: "c1", now: 0)
        _ = s.add(hostname: DNSName("db.weft.local")!, address: 5, containerID: "c1", now: 0)
        #expect(s.names(of: 5).map(\.description) == ["db.weft.local.", "web.weft.local."])
        _ = s.remove(containerID: "c1", hostname: DNSName("db.weft.local")!, now: 1)
        #expect(s.names(of: 5) == [Self.web])
    }

    /// The gossip decoder refuses bad flags, bad names and trailing bytes.
    @Test func gossipCodecRefusesGarbage() throws {
        let e = DNSEntry(hostname: Self.web, address: 1, containerID: "c", origin: Self.a, version: 1)
        var good = DNSGossip.encode([e])[0]
        #expect(try DNSGossip.decode(good) == [e])
        good.writeInteger(UInt8(0))
        #expect(throws: WireError.self) { try DNSGossip.decode(good) }
        var badName = ByteBuffer()
        badName.writeInteger(UInt32(1))
        badName.writePeerName(Self.a)
        badName.writeInteger(UInt64(1))
        badName.writeInteger(UInt8(0))
        badName.writeInteger(UInt32(1))
        badName.writeWireString("c")
        badName.writeInteger(UInt8(3))
        badName.writeBytes([5, 0x61, 0])
        #expect(throws: WireError.self) { try DNSGossip.decode(badName) }
    }
}

/// Record versions at their maximum: refused by the decoder, ignored by the merge.
@Suite struct DNSVersionLimitTests {
    static let me = PeerName(rawValue: 0xA), other = PeerName(rawValue: 0xB)

    @Test func maximumVersions() throws {
        var store = DNSStore(me: Self.me)
        let name = try #require(DNSName("web.weft.local."))
        let own = DNSEntry(hostname: name, address: 1, containerID: "c", origin: Self.me, version: .max, tombstone: true)
        let theirs = DNSEntry(hostname: name, address: 2, containerID: "c", origin: Self.other, version: .max)
        let (new, corrections) = store.merge([own, theirs], now: 1)
        #expect(new.isEmpty && corrections.isEmpty)
        // Our own next record still gets a version (no overflow from a clock taken off the wire).
        #expect(store.add(hostname: name, address: 3, containerID: "d", now: 2) != nil)
        for message in DNSGossip.encode([theirs]) {
            #expect(throws: WireError.self) { try DNSGossip.decode(message) }
        }
    }
}
