import NIOCore
import Testing
import WeftMesh
@testable import WeftDataPath
import WeftTypes

@Suite struct FastpathTests {
    static let a = PeerName(rawValue: 0x0200_0000_000A), b = PeerName(rawValue: 0x0200_0000_000B)

    /// A probe survives the frame round trip, padded; other frames are not probes.
    @Test func probeFrames() {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1390, alignment: 1)
        defer { buffer.deallocate() }
        let p = FastpathProbe(sender: Self.a, receiver: Self.b, hearsReceiver: true)
        p.write(into: buffer, length: 1390)
        #expect(FastpathProbe(frame: UnsafeRawBufferPointer(buffer)) == p)
        #expect(MAC(UnsafeRawBufferPointer(buffer), at: 0) == MAC.bridge(of: Self.b))
        buffer[13] = 0x00  // another EtherType
        #expect(FastpathProbe(frame: UnsafeRawBufferPointer(buffer)) == nil)
        #expect(FastpathProbe(frame: UnsafeRawBufferPointer(rebasing: buffer[0..<20])) == nil)
    }

    /// A bridge MAC is always unicast and locally administered, whatever the peer name.
    @Test func bridgeMAC() {
        let odd = MAC.bridge(of: PeerName(rawValue: 0x0100_0000_0001))
        #expect(!odd.isGroup && odd.rawValue >> 41 & 1 == 1)
    }

    /// Up only while probes arrive both ways; down after the timeout or when no longer a
    /// candidate; up again when probes return.
    @Test func pathStates() {
        var p = FastpathPaths()
        p.set(candidates: [Self.b])
        p.received(from: Self.b, hearsUs: false, now: 0)
        var changes = p.evaluate(now: 0.1)
        #expect(changes.isEmpty)  // it does not hear us yet
        p.received(from: Self.b, hearsUs: true, now: 1)
        changes = p.evaluate(now: 1.1)
        #expect(changes.map(\.up) == [true] && p.up == [Self.b])
        changes = p.evaluate(now: 3.9)
        #expect(changes.isEmpty)
        changes = p.evaluate(now: 4.1)
        #expect(changes.map(\.up) == [false] && p.up.isEmpty)
        p.received(from: Self.b, hearsUs: true, now: 10)
        changes = p.evaluate(now: 10)
        #expect(changes.map(\.up) == [true])
        p.set(candidates: [])
        changes = p.evaluate(now: 10.5)
        #expect(changes.map(\.up) == [false])
        p.received(from: Self.b, hearsUs: true, now: 11)  // not a candidate: ignored
        changes = p.evaluate(now: 11)
        #expect(changes.isEmpty)
    }

    /// The MAC directory keeps each peer's newest announcement, through the wire codec, and a
    /// peer that sees an announcement of its own newer than its own re-announces above it.
    @Test func macDirectory() throws {
        var da = MACDirectory(me: Self.a), db = MACDirectory(me: Self.b)
        let m1 = MAC(rawValue: 0x0200_0000_0101), m2 = MAC(rawValue: 0x0200_0000_0102)
        let firstSet = da.setLocal([m1], now: 100)
        let first = try #require(firstSet)
        let again = da.setLocal([m1], now: 100)
        #expect(again == nil)
        let secondSet = da.setLocal([m1, m2], now: 100)
        let second = try #require(secondSet)
        #expect(second.version > first.version)
        let wire = try MACDirectory.decode(MACDirectory.encode([Self.a: first]))
        _ = db.merge(wire)
        _ = db.merge([Self.a: second])
        let stale = db.merge([Self.a: first])
        let macs = db.macs(of: Self.a)
        #expect(stale.new.isEmpty && macs == [m1, m2])
        var restarted = MACDirectory(me: Self.a)
        let (_, correction) = restarted.merge([Self.a: second])
        #expect((correction?.version ?? 0) > second.version && correction?.macs == [])
    }

    /// The directory decoder refuses a peer listed twice, lying counts and trailing bytes.
    @Test func macDirectoryRefusesGarbage() {
        var twice = ByteBuffer()
        twice.writeInteger(UInt32(2))
        for _ in 0..<2 {
            twice.writePeerName(Self.a)
            twice.writeInteger(UInt64(1))
            twice.writeInteger(UInt32(0))
        }
        #expect(throws: WireError.self) { try MACDirectory.decode(twice) }
        var lying = ByteBuffer()
        lying.writeInteger(UInt32(1000))
        #expect(throws: WireError.self) { try MACDirectory.decode(lying) }
        var trailing = MACDirectory.encode([:])
        trailing.writeInteger(UInt8(0))
        #expect(throws: WireError.self) { try MACDirectory.decode(trailing) }
    }
}

/// Versions and counters at their maximum: refused or ignored, never a trap.
@Suite struct DataPathVersionLimitTests {
    static let me = PeerName(rawValue: 0x0200_0000_0001), other = PeerName(rawValue: 0x0200_0000_0002)

    /// A directory entry of ours at UInt64.max is not stepped past; the decoder refuses it.
    @Test func macDirectoryAtMaximum() {
        var d = MACDirectory(me: Self.me)
        _ = d.setLocal([MAC(rawValue: 0x0200_0000_0A01)], now: 1)
        let before = d.entries[Self.me]?.version
        let (new, correction) = d.merge([Self.me: .init(version: .max, macs: []), Self.other: .init(version: .max, macs: [])])
        #expect(new.isEmpty && correction == nil && d.entries[Self.me]?.version == before)
        #expect(throws: WireError.self) { try MACDirectory.decode(MACDirectory.encode([Self.other: .init(version: .max, macs: [])])) }
    }

    /// The replay window takes counters up to UInt64.max.
    @Test func replayWindowAtMaximum() {
        var w = ReplayWindow()
        let results = [w.accept(.max - 3), w.accept(.max), w.accept(.max), w.accept(.max - 1)]
        #expect(results == [true, true, false, true])
        #expect(!w.check(.max - 3))
    }
}
