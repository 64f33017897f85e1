import NIOCore
import Testing
@testable import WeftMesh
import WeftTypes

/// Versions off the wire at their maximum: refused by the decoder, ignored by the merge,
/// never a trap (a neighbour would hand the entry back on every reconnect).
@Suite struct TopologyVersionLimitTests {
    static let me = PeerName(rawValue: 1), other = PeerName(rawValue: 2)

    /// A report of ourselves from another incarnation at UInt64.max does not make us step past it.
    @Test func ownEntryAtMaximumIsIgnored() {
        var t = Topology(local: PeerIdentity(name: Self.me, nickname: "me", uid: 1))
        for version in [UInt64.max, VersionLimit.maximum + 1] {
            let stale = TopologyEntry(name: Self.me, nickname: "me", uid: 99, version: version, baseVersion: 0,
                                      upserts: [], removals: [])
            let result = t.merge([stale])
            #expect(!result.localBumped)
        }
        #expect(t.local.version == 1)
        // At the limit itself, still one step is possible.
        let atLimit = TopologyEntry(name: Self.me, nickname: "me", uid: 99, version: VersionLimit.maximum, baseVersion: 0,
                                    upserts: [], removals: [])
        #expect(t.merge([atLimit]).localBumped)
        #expect(t.local.version == VersionLimit.maximum + 1)
    }

    /// The decoder refuses entries and digests beyond the limit.
    @Test func decoderRefusesMaximum() {
        let entry = TopologyEntry(name: Self.other, nickname: "o", uid: 1, version: UInt64.max, baseVersion: 0,
                                  upserts: [], removals: [])
        for message in [TopologyMessage.update([entry]), .digest([PeerVersion(name: Self.other, uid: 1, version: .max)])] {
            var b = ByteBuffer()
            message.encode(into: &b)
            #expect(throws: WireError.self) { try TopologyMessage.decode(&b) }
        }
    }
}

/// Before a remote has proved anything, its frames are no larger than a handshake's.
@Suite struct HandshakeFrameLimitTests {
    static func frame(_ length: Int) -> ByteBuffer {
        var b = ByteBuffer()
        b.writeInteger(UInt32(length), endianness: .big)
        b.writeRepeatingByte(0, count: length)
        return b
    }

    @Test func handshakeFramesAreSmall() throws {
        var d = MeshFrameDecoder()
        var b = ByteBuffer(bytes: [UInt8](repeating: 0, count: ProtocolHeader.size))
        _ = try d.next(&b)
        var big = Self.frame(MeshFrameDecoder.handshakeFrameSize + 1)
        #expect(throws: WireError.self) { try d.next(&big) }
        var e = MeshFrameDecoder()
        var stream = ByteBuffer(bytes: [UInt8](repeating: 0, count: ProtocolHeader.size))
        var hello = Self.frame(64), features = Self.frame(300), gossip = Self.frame(1 << 20)
        stream.writeBuffer(&hello)
        stream.writeBuffer(&features)
        stream.writeBuffer(&gossip)
        var sizes: [Int] = []
        while let f = try e.next(&stream) {
            if case .frame(let body) = f { sizes.append(body.readableBytes) }
        }
        #expect(sizes == [64, 300, 1 << 20])  // after the handshake, the usual limit
    }
}

/// Failed password proofs: a few per minute per source address.
@Suite struct GuessLimiterTests {
    @Test func limitsPerSource() {
        var g = GuessLimiter()
        let second: UInt64 = 1_000_000_000
        for i in 0..<UInt64(GuessLimiter.limit) {
            #expect(g.allows("198.18.0.9", now: i * second))
            g.failed("198.18.0.9", now: i * second)
        }
        #expect(!g.allows("198.18.0.9", now: 10 * second))
        #expect(g.allows("198.18.0.8", now: 10 * second))  // another address is not held back
        #expect(g.allows("198.18.0.9", now: 61 * second))  // the oldest failure aged out
    }
}

/// A dial that reached this router itself may have been reflected: never a permanent failure.
@Suite struct ReflectedDialTests {
    @Test func connectToSelfIsRetried() {
        #expect(!HandshakeFailure.connectToSelf.isPermanent)
        var targets = ConnectionTargets()
        var rng = SplitMix64(seed: 1)
        targets.addDirect(["198.18.0.1:6783"], replace: false, now: 0)
        targets.failed("198.18.0.1:6783", reason: "connection to self", permanent: HandshakeFailure.connectToSelf.isPermanent,
                       now: 0, rng: &rng)
        #expect(targets.due(now: 10 * 60 * 1_000_000_000, connected: [], budget: 10) == ["198.18.0.1:6783"])  // dialled again
    }
}
