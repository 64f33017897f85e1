import NIOCore
import WeftDNS
import WeftIPAM
import WeftMesh
import WeftDataPath
import WeftTypes

/// Feeds one input to every decoder of mesh network input (frame splitter, handshake header,
/// key hello, features, messages, topology, IPAM, DNS and MAC gossip payloads, sleeve datagrams,
/// fast path probes, frames to inject, DNS messages), and what decodes to the merges that take it (topology,
/// DNS store, MAC directory, ring, Paxos, replay window), as the receiver of each would: with
/// its own name among the entries, so the "+ 1" paths run on whatever versions the input has.
/// Used by the libFuzzer target in `Fuzz/`; a decoder or a merge that traps is a bug.
public enum MeshDecoderFuzzing {
    public static func run(_ bytes: UnsafeBufferPointer<UInt8>) {
        let buffer = ByteBuffer(bytes: bytes)
        var decoder = MeshFrameDecoder(maxFrameSize: 1 << 16)
        var stream = buffer
        while let frame = try? decoder.next(&stream) {
            guard case let .frame(payload) = frame else { continue }
            decodeFrame(payload)
        }
        decodeFrame(buffer)
        _ = try? ProtocolHeader(bytes: Array(bytes.prefix(ProtocolHeader.size)))
        decodeDatagram(UnsafeRawBufferPointer(bytes))
        decodeDNS(UnsafeRawBufferPointer(bytes), buffer)
        if let directory = try? MACDirectory.decode(buffer) {
            guard (try? MACDirectory.decode(MACDirectory.encode(directory))) == directory else { fatalError("MAC directory round trip") }
        }
        _ = FastpathProbe(frame: UnsafeRawBufferPointer(bytes))
        prepareInjection(UnsafeRawBufferPointer(bytes))
        mergeAll(buffer, UnsafeRawBufferPointer(bytes))
    }

    /// The merges, fed what the decoders accept (and the replay window raw counters).
    static func mergeAll(_ buffer: ByteBuffer, _ bytes: UnsafeRawBufferPointer) {
        var t = buffer
        if case let .update(entries)? = try? TopologyMessage.decode(&t), let first = entries.first {
            var topology = Topology(local: PeerIdentity(name: first.name, nickname: "fuzz", uid: first.uid &+ 1))
            _ = topology.merge(entries)
            _ = topology.setLocalConnections([])
        }
        if let entries = try? DNSGossip.decode(buffer), let first = entries.first {
            var store = DNSStore(me: first.origin)
            _ = store.merge(entries, now: 1e9)
            _ = store.add(hostname: first.hostname, address: first.address, containerID: first.containerID, now: 1e9)
        }
        if let incoming = try? MACDirectory.decode(buffer), let me = incoming.keys.first {
            var directory = MACDirectory(me: me)
            _ = directory.setLocal([], now: 1)
            _ = directory.merge(incoming)
            _ = directory.setLocal([MAC(rawValue: 1)], now: 2)
        }
        if case let .state(ring, paxos, _)? = try? IPAMMessage.decode(buffer) {
            var mine = Ring(start: ring.start, end: ring.end)
            _ = try? mine.merge(ring)
            if let owner = ring.entries.first?.owner { _ = mine.transfer(from: owner, to: PeerName(rawValue: 0xFFFF)) }
            if let me = paxos.keys.first {
                var p = Paxos(me: me, quorum: 2)
                p.join()
                p.merge(paxos)
                p.propose()
            }
        }
        var window = ReplayWindow()
        var i = 0
        while i + 8 <= bytes.count {
            var counter: UInt64 = 0
            for j in 0..<8 { counter = counter << 8 | UInt64(bytes[i + j]) }
            _ = window.accept(counter)
            i += 8
        }
    }

    /// A DNS message (what decodes must re-encode to the same message, also when truncated)
    /// and a `dns` gossip payload.
    static func decodeDNS(_ bytes: UnsafeRawBufferPointer, _ buffer: ByteBuffer) {
        if let m = try? DNSMessage(decoding: bytes) {
            guard (try? DNSMessage(decoding: m.encoded())) == m else { fatalError("DNS round trip changed \(m)") }
            guard let short = try? DNSMessage(decoding: m.encoded(limit: 512)), short.questions == m.questions else {
                fatalError("truncating lost the question of \(m)")
            }
        }
        if let entries = try? DNSGossip.decode(buffer) {
            let again = DNSGossip.encode(entries).flatMap { (try? DNSGossip.decode($0)) ?? [] }
            guard again == entries else { fatalError("DNS gossip round trip changed \(entries)") }
        }
    }

    /// A frame the sleeve injects: its offload header never points past what is injected.
    static func prepareInjection(_ bytes: UnsafeRawBufferPointer) {
        let frame = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 8)
        defer { frame.deallocate() }
        frame.copyMemory(from: bytes)
        _ = OffloadHeader.isSuperFrame(UnsafeRawBufferPointer(frame))
        let (h, length) = OffloadHeader.prepare(frame, mtu: 1376)
        guard length <= bytes.count else { fatalError("injects \(length) of \(bytes.count) bytes") }
        if h.flags & OffloadHeader.needsChecksum != 0, Int(h.checksumStart) + Int(h.checksumOffset) + 2 > length {
            fatalError("checksum field past the frame")
        }
        if h.gsoType != OffloadHeader.gsoNone, Int(h.headerLength) > length || h.segmentSize == 0 {
            fatalError("segmentation past the frame")
        }
    }

    /// A sleeve datagram: header, frame list, fragment header and reassembly.
    static func decodeDatagram(_ bytes: UnsafeRawBufferPointer) {
        guard let header = SleeveHeader(from: bytes) else { return }
        let body = UnsafeRawBufferPointer(rebasing: bytes[SleeveHeader.size...])
        if header.flags.contains(.fragment), let fragment = FragmentHeader(from: body) {
            var reassembly = Reassembly()
            defer { reassembly.deallocate() }
            let data = UnsafeRawBufferPointer(rebasing: body[FragmentHeader.size...])
            if case let .complete(frame) = reassembly.add(fragment, data: data, source: 1, now: 0), frame.count != fragment.total {
                fatalError("reassembled \(frame.count) bytes of a \(fragment.total)-byte frame")
            }
        } else {
            let frames = FrameList(body)
            var total = 0
            for frame in frames { total += 2 + frame.count }
            if !frames.isMalformed, total != body.count { fatalError("frame list lost bytes") }
        }
    }

    static func decodeFrame(_ payload: ByteBuffer) {
        var a = payload, b = payload, c = payload
        _ = try? KeyHello.decode(&a)
        _ = try? HandshakeFeatures.decode(&b)
        if let message = try? MeshMessage.decode(&c), case let .gossip(_, _, inner) = message {
            var d = inner
            if let topology = try? TopologyMessage.decode(&d) {
                // What decodes must survive a round trip.
                var encoded = ByteBuffer()
                topology.encode(into: &encoded)
                guard (try? TopologyMessage.decode(&encoded)) == topology else { fatalError("round trip changed \(topology)") }
            }
        }
        var e = payload
        _ = try? TopologyMessage.decode(&e)
        if let ipam = try? IPAMMessage.decode(payload) {
            guard (try? IPAMMessage.decode(ipam.encode())) == ipam else { fatalError("round trip changed \(ipam)") }
        }
    }
}
