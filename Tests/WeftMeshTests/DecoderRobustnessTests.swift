import NIOCore
import Testing
@testable import WeftMesh
import WeftTypes

/// Every decoder of network input, fed random, truncated and oversized bytes: it throws or
/// returns, never traps, and what it accepts re-encodes to something it accepts again.
@Suite struct DecoderRobustnessTests {
    static func samples() -> [ByteBuffer] {
        var out: [ByteBuffer] = []
        let entry = TopologyEntry(name: PeerName(rawValue: 5), nickname: "h5", uid: 9, version: 3, baseVersion: 1,
                                  upserts: [ConnectionSummary(remote: PeerName(rawValue: 6), address: "198.18.0.6:6783",
                                                              outbound: true, established: true)],
                                  removals: [PeerName(rawValue: 7)])
        for m in [TopologyMessage.update([entry]), .request([PeerVersion(name: PeerName(rawValue: 1), uid: 2, version: 3)]),
                  .digest([PeerVersion(name: PeerName(rawValue: 1), uid: 2, version: 3)])] {
            var b = ByteBuffer()
            m.encode(into: &b)
            out.append(b)
        }
        for m in [MeshMessage.heartbeat, .gossip(channel: "topology", source: PeerName(rawValue: 1), payload: out[0]),
                  .unicast(channel: "ipam", source: PeerName(rawValue: 1), destination: PeerName(rawValue: 2),
                           payload: ByteBuffer(string: "x")),
                  .broadcast(channel: "dns", source: PeerName(rawValue: 3), payload: ByteBuffer())] {
            var b = ByteBuffer()
            m.encode(into: &b)
            out.append(b)
        }
        var f = ByteBuffer()
        HandshakeFeatures(name: PeerName(rawValue: 1), nickname: "n", uid: 2, connectionID: 3,
                          capabilities: ["sleeve", "fastdp"]).encode(into: &f)
        out.append(f)
        return out
    }

    static func decodeAll(_ bytes: ByteBuffer) {
        var a = bytes, b = bytes, c = bytes, d = bytes
        if let m = try? TopologyMessage.decode(&a) {
            var again = ByteBuffer()
            m.encode(into: &again)
            #expect((try? TopologyMessage.decode(&again)) == m)
        }
        _ = try? MeshMessage.decode(&b)
        _ = try? HandshakeFeatures.decode(&c)
        _ = try? KeyHello.decode(&d)
        _ = try? ProtocolHeader(bytes: Array(bytes.readableBytesView.prefix(8)))
        var decoder = MeshFrameDecoder(maxFrameSize: 1 << 16)
        var e = bytes
        while (try? decoder.next(&e)) != nil {}
    }

    /// Valid messages cut at every length.
    @Test func truncations() {
        for sample in Self.samples() {
            for n in 0...sample.readableBytes {
                Self.decodeAll(sample.getSlice(at: sample.readerIndex, length: n)!)
            }
        }
    }

    /// Random bytes, and valid messages with random bytes flipped.
    @Test func randomAndMutated() {
        var rng = SplitMix64(seed: 1234)
        for _ in 0..<20_000 {
            let n = Int.random(in: 0..<96, using: &rng)
            Self.decodeAll(ByteBuffer(bytes: (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }))
        }
        let samples = Self.samples()
        for _ in 0..<20_000 {
            var bytes = Array(samples.randomElement(using: &rng)!.readableBytesView)
            for _ in 0..<Int.random(in: 1...4, using: &rng) where !bytes.isEmpty {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            Self.decodeAll(ByteBuffer(bytes: bytes))
        }
    }

    /// Counts and lengths that promise more than the message holds are refused before any
    /// allocation; a frame length above the limit is an error, not a wait.
    @Test func oversizedLengths() throws {
        var huge = ByteBuffer()
        huge.writeInteger(UInt8(1))
        huge.writeInteger(UInt32.max, endianness: .big)
        #expect(throws: WireError.self) { try TopologyMessage.decode(&huge) }
        var digest = ByteBuffer()
        digest.writeInteger(UInt8(3))
        digest.writeInteger(UInt32(50_000), endianness: .big)  // within the cap, but no bytes follow
        #expect(throws: WireError.truncated) { try TopologyMessage.decode(&digest) }
        var decoder = MeshFrameDecoder(maxFrameSize: 1024)
        var stream = ByteBuffer(bytes: ProtocolHeader.ours.bytes)
        stream.writeInteger(UInt32(1025), endianness: .big)
        do { let f = try decoder.next(&stream); #expect(f == .header(ProtocolHeader.ours.bytes)) }
        #expect(throws: WireError.self) { try decoder.next(&stream) }
    }

    /// The frame decoder waits for whole frames and splits several in one read.
    @Test func framing() throws {
        var decoder = MeshFrameDecoder()
        var stream = ByteBuffer(bytes: ProtocolHeader.ours.bytes.prefix(5))
        do { let f = try decoder.next(&stream); #expect(f == nil) }
        stream.writeBytes(ProtocolHeader.ours.bytes.dropFirst(5))
        for payload in ["ab", "", "cde"] {
            stream.writeInteger(UInt32(payload.utf8.count), endianness: .big)
            stream.writeString(payload)
        }
        stream.writeInteger(UInt32(10), endianness: .big)
        do { let f = try decoder.next(&stream); #expect(f == .header(ProtocolHeader.ours.bytes)) }
        do { let f = try decoder.next(&stream); #expect(f == .frame(ByteBuffer(string: "ab"))) }
        do { let f = try decoder.next(&stream); #expect(f == .frame(ByteBuffer())) }
        do { let f = try decoder.next(&stream); #expect(f == .frame(ByteBuffer(string: "cde"))) }
        do { let f = try decoder.next(&stream); #expect(f == nil) }
    }

    /// Version negotiation picks the highest common version and refuses disjoint ranges.
    @Test func versionNegotiation() throws {
        let ours = ProtocolHeader(minVersion: 1, maxVersion: 3)
        #expect(try ours.negotiate(with: ProtocolHeader(minVersion: 2, maxVersion: 5)) == 3)
        #expect(try ours.negotiate(with: ProtocolHeader(minVersion: 1, maxVersion: 1)) == 1)
        #expect(throws: HandshakeFailure.self) { try ours.negotiate(with: ProtocolHeader(minVersion: 4, maxVersion: 9)) }
        #expect(throws: HandshakeFailure.badMagic) { try ProtocolHeader(bytes: Array("WAVE\u{1}\u{1}\0\0".utf8)) }
    }
}

extension DecoderRobustnessTests {
    /// Found by the fuzzer: a string that is not UTF-8 is refused, not repaired (a repaired
    /// string re-encodes to other, possibly over-long, bytes).
    @Test func invalidUTF8IsRefused() {
        var b = ByteBuffer()
        b.writeInteger(UInt16(2), endianness: .big)
        b.writeBytes([0xE2, 0x28])
        #expect(throws: WireError.invalid("UTF-8 in nickname")) { try b.readWireString(field: "nickname") }
    }
}
