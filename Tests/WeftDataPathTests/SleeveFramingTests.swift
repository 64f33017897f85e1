import Glibc
import Testing
import WeftCrypto
import WeftMesh
@testable import WeftDataPath
import WeftTypes

@Suite struct SleeveFramingTests {
    /// A header survives its codec; bad versions, flags and lengths are refused.
    @Test func headerRoundTrip() {
        let h = SleeveHeader(flags: [.sealed, .broadcast], hops: 5, source: PeerName(rawValue: 0x0102_0304_0506),
                             destination: PeerName(rawValue: 0xA0B0_C0D0_E0F0), sender: PeerName(rawValue: 7), counter: 1 << 40 | 9)
        var bytes = [UInt8](repeating: 0, count: SleeveHeader.size)
        bytes.withUnsafeMutableBytes { h.write(to: $0) }
        #expect(bytes.withUnsafeBytes { SleeveHeader(from: $0) } == h)
        var bad = bytes
        bad[0] = 1  // the version before super-frames
        #expect(bad.withUnsafeBytes { SleeveHeader(from: $0) } == nil)
        bad = bytes
        bad[1] = 0x80
        #expect(bad.withUnsafeBytes { SleeveHeader(from: $0) } == nil)
        #expect(bytes.dropLast().withUnsafeBytes { SleeveHeader(from: $0) } == nil)
    }

    /// Frames packed into a body come back whole and in order; lengths that overrun are caught.
    @Test func frameListPacksAndRefusesOverruns() {
        let frames: [[UInt8]] = [Array(repeating: 1, count: 60), Array(repeating: 2, count: 1390), Array(repeating: 3, count: 14)]
        var body = [UInt8](repeating: 0, count: 2048)
        var offset = 0
        body.withUnsafeMutableBytes { out in
            for f in frames { offset = f.withUnsafeBytes { FrameList.append($0, to: out, at: offset) } }
        }
        let packed = Array(body.prefix(offset))
        packed.withUnsafeBytes { b in
            #expect(!FrameList(b).isMalformed)
            #expect(FrameList(b).map { Array($0) } == frames)
        }
        var broken = packed
        broken[1] = 0xFF  // first length now overruns
        broken.withUnsafeBytes { #expect(FrameList($0).isMalformed) }
        Array(packed.dropLast()).withUnsafeBytes { #expect(FrameList($0).isMalformed) }
    }

    /// The window accepts each counter once, in any order within 1024, and nothing older.
    @Test func replayWindow() {
        var w = ReplayWindow()
        let counters: [UInt64] = [5, 5, 3, 2000, 3, 976, 977, 977, 1_000_000]
        var answers: [Bool] = []
        for c in counters { answers.append(w.accept(c)) }
        #expect(answers == [true, false, true, true, false, false, true, false, true])
        #expect(!w.check(2000))
        var rng = SplitMix64(seed: 3)
        var fresh = ReplayWindow()
        var seen = Set<UInt64>()
        for _ in 0..<5000 {
            let c = 10_000 + UInt64.random(in: 0..<900, using: &rng) + UInt64(seen.count)
            let accepted = fresh.accept(c)
            #expect(accepted == !seen.contains(c))
            seen.insert(c)
        }
    }

    /// MACs are learned where they send from (also stamped a little after `now` by another thread), follow moves, age out, and group MACs are never learned.
    @Test func forwardingTable() {
        var t = ForwardingTable(ageing: 100)
        let a = MAC(rawValue: 0x02_0000_0000_01), group = MAC(rawValue: 0xFF_FFFF_FFFF_FF)
        let p = PeerName(rawValue: 9)
        t.learn(a, at: .local, now: 0)
        t.learn(group, at: .local, now: 0)
        #expect(t.lookup(a, now: 50) == .local && t.lookup(group, now: 0) == nil && group.isGroup)
        t.learn(a, at: .peer(p), now: 60)
        #expect(t.lookup(a, now: 100) == .peer(p) && t.lookup(a, now: 59) == .peer(p))
        #expect(t.lookup(a, now: 161) == nil)
        t.learn(a, at: .peer(p), now: 200)
        t.forget(peer: p)
        #expect(t.lookup(a, now: 200) == nil)
    }

    /// A too-big IPv4 frame with DF set is answered with ICMP "fragmentation needed", addressed
    /// back to its sender, with valid checksums; other frames get no answer.
    @Test func fragmentationNeeded() {
        var frame = [UInt8](repeating: 0, count: 1500)
        for i in 0..<6 { frame[i] = 0xAA; frame[6 + i] = 0xBB }
        frame[12] = 0x08; frame[13] = 0x00
        frame[14] = 0x45; frame[20] = 0x40; frame[23] = 6  // DF, TCP
        frame[26...29] = [10, 32, 0, 1]; frame[30...33] = [10, 32, 0, 2]
        var out = [UInt8](repeating: 0, count: 128)
        let n = frame.withUnsafeBytes { f in out.withUnsafeMutableBytes { FragmentationNeeded.answer(to: f, mtu: 1376, into: $0) } }
        #expect(n == 14 + 20 + 8 + 28)
        #expect(out[0..<6].allSatisfy { $0 == 0xBB } && out[6..<12].allSatisfy { $0 == 0xAA })
        #expect(Array(out[26..<30]) == [10, 32, 0, 2] && Array(out[30..<34]) == [10, 32, 0, 1])
        #expect(out[34] == 3 && out[35] == 4 && Int(out[40]) << 8 | Int(out[41]) == 1376)
        var noDF = frame
        noDF[20] = 0
        let none = noDF.withUnsafeBytes { f in out.withUnsafeMutableBytes { FragmentationNeeded.answer(to: f, mtu: 1376, into: $0) } }
        #expect(none == nil)
    }

    /// In-place sealing with the header as associated data: a changed header or body, or the
    /// wrong counter, fails to open.
    @Test func sealInPlace() throws {
        let password = try PasswordKey(password: "x")
        let pair = try (PasswordKeyExchange(password: password, channel: [2]), PasswordKeyExchange(password: password, channel: [2]))
        let a = try SessionKeys(exchange: pair.0, remoteShare: pair.1.share, isInitiator: true)
        let b = try SessionKeys(exchange: pair.1, remoteShare: pair.0.share, isInitiator: false)
        var datagram = [UInt8](repeating: 7, count: 100 + AEADKey.overhead)
        let header: [UInt8] = Array(repeating: 1, count: 30)
        let sealed = datagram.withUnsafeMutableBytes { d in header.withUnsafeBytes { a.udpSend.sealInPlace(d.baseAddress!, length: 100, counter: 3, additional: $0) } }
        #expect(sealed == 100 + AEADKey.overhead)
        var copy = datagram
        let opened = copy.withUnsafeMutableBytes { d in header.withUnsafeBytes { b.udpReceive.openInPlace(d.baseAddress!, length: sealed, counter: 3, additional: $0) } }
        #expect(opened == 100 && copy.prefix(100).allSatisfy { $0 == 7 })
        copy = datagram
        let wrongCounter = copy.withUnsafeMutableBytes { d in header.withUnsafeBytes { b.udpReceive.openInPlace(d.baseAddress!, length: sealed, counter: 4, additional: $0) } }
        #expect(wrongCounter == nil)
        copy = datagram
        let otherHeader = Array(repeating: UInt8(2), count: 30)
        let wrongHeader = copy.withUnsafeMutableBytes { d in otherHeader.withUnsafeBytes { b.udpReceive.openInPlace(d.baseAddress!, length: sealed, counter: 3, additional: $0) } }
        #expect(wrongHeader == nil)
    }
}

@Suite struct PathMTUTests {
    /// Three unanswered probes step the size down; a later answer to a larger probe raises it.
    @Test func stepsDownAndBackUp() {
        var p = PathMTU()
        var t: UInt64 = 1_000_000_000
        #expect(p.datagram == 1472)
        for _ in 0..<2 {
            _ = p.probes(now: t)
            let changed = p.update(acknowledged: 1400, now: t)
            #expect(!changed)
            t += 1_000_000_000
        }
        _ = p.probes(now: t)
        let down = p.update(acknowledged: 1400, now: t)
        #expect(down && p.datagram == 1400)
        t += 40_000_000_000  // the next larger size is tried after 30 s
        #expect(p.probes(now: t) == [1400, 1472])
        let up = p.update(acknowledged: 1472, now: t + 1_000_000_000)
        #expect(up && p.datagram == 1472)
    }

    /// Pieces of any size put a frame back together; duplicates are ignored, overruns refused.
    @Test func reassemblyOfUnevenPieces() {
        var r = Reassembly()
        defer { r.deallocate() }
        let frame = (0..<3000).map { UInt8(truncatingIfNeeded: $0) }
        var result: [UInt8]?
        for (offset, length) in [(0, 1400), (1400, 1400), (0, 1400), (2800, 200)] {
            let piece = Array(frame[offset..<(offset + length)])
            piece.withUnsafeBytes { data in
                if case let .complete(f) = r.add(FragmentHeader(frameID: 7, offset: offset, total: 3000), data: data, source: 1, now: 0) {
                    result = Array(f)
                }
            }
        }
        #expect(result == frame)
        let overrun = [UInt8](repeating: 0, count: 100).withUnsafeBytes {
            r.add(FragmentHeader(frameID: 8, offset: 2950, total: 3000), data: $0, source: 1, now: 0)
        }
        guard case .malformed = overrun else { Issue.record("an overrunning piece was taken"); return }
    }

    /// Two overlapping pieces whose lengths add up to the total do not make a frame (the gap
    /// would be stale memory): the frame is given up.
    @Test func reassemblyRefusesOverlaps() {
        var r = Reassembly()
        defer { r.deallocate() }
        let frame = [UInt8](repeating: 0xAB, count: 200)
        var results: [Reassembly.Result] = []
        for (offset, length) in [(0, 100), (64, 100)] {
            frame[offset..<(offset + length)].withUnsafeBytes { data in
                results.append(r.add(FragmentHeader(frameID: 9, offset: offset, total: 200), data: data, source: 1, now: 0))
            }
        }
        guard case .pending = results[0], case .malformed = results[1] else {
            Issue.record("overlapping pieces were taken: \(results)")
            return
        }
        // The frame is gone: its remaining piece starts a new one, which stays pending.
        let rest = frame[164..<200].withUnsafeBytes { r.add(FragmentHeader(frameID: 9, offset: 164, total: 200), data: $0, source: 1, now: 0) }
        guard case .pending = rest else { Issue.record("the given-up frame completed"); return }
    }
}

/// Keys are renewed before they seal more than `aeadRotationLimit` datagrams.
@Suite struct KeyRenewalTests {
    @Test func dueAtTheLimit() throws {
        let password = try PasswordKey(password: "x")
        let pair = try (PasswordKeyExchange(password: password, channel: [2]), PasswordKeyExchange(password: password, channel: [2]))
        let keys = try SessionKeys(exchange: pair.0, remoteShare: pair.1.share, isInitiator: true)
        var path = Sleeve.PeerPath(address: sockaddr_in(), sendKey: keys.udpSend, receiveKey: keys.udpReceive)
        path.sendCounter = aeadRotationLimit - 1
        #expect(!path.dueForRenewal)
        path.sendCounter = aeadRotationLimit
        #expect(path.dueForRenewal)
        let plain = Sleeve.PeerPath(address: sockaddr_in(), sendKey: nil, receiveKey: nil, sendCounter: aeadRotationLimit)
        #expect(!plain.dueForRenewal)  // nothing sealed, nothing to renew
    }
}
