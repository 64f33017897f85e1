import Testing
@testable import WeftDataPath

/// The offload header of injected frames: the checksum field the kernel finishes, and the
/// segmentation of TCP super-frames.
@Suite struct OffloadHeaderTests {
    /// The Internet checksum's ones'-complement sum of `bytes`, folded (not inverted).
    static func sum(_ bytes: some Collection<UInt8>, _ start: UInt32 = 0) -> UInt16 {
        var sum = start
        var high = true
        for b in bytes {
            sum += high ? UInt32(b) << 8 : UInt32(b)
            high.toggle()
        }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        return UInt16(sum)
    }

    /// An Ethernet frame with an IPv4 (or IPv6) TCP or UDP packet of `payload` bytes, its
    /// checksum correct; `tcpOptions` bytes of options, `padding` bytes after the packet.
    static func frame(tcp: Bool = true, ipv6: Bool = false, payload: Int, tcpOptions: Int = 12, padding: Int = 0,
                      flags: UInt8 = 0x10, fragment: Bool = false) -> [UInt8] {
        let l4Header = tcp ? 20 + tcpOptions : 8
        let l4 = l4Header + payload
        var f = [UInt8](repeating: 0, count: 6) + [2, 0, 0, 0, 0, 1]
        var pseudo: [UInt8]
        if ipv6 {
            f += [0x86, 0xDD, 0x60, 0, 0, 0, UInt8(l4 >> 8), UInt8(l4 & 0xFF), tcp ? 6 : 17, 64]
            let src = [UInt8](repeating: 0xFE, count: 16), dst = [UInt8](repeating: 0xFD, count: 16)
            f += src + dst
            pseudo = src + dst + [0, 0, UInt8(l4 >> 8), UInt8(l4 & 0xFF), 0, 0, 0, tcp ? 6 : 17]
        } else {
            let total = 20 + l4
            var ip: [UInt8] = [0x45, 0, UInt8(total >> 8), UInt8(total & 0xFF), 0, 1, fragment ? 0x20 : 0x40, 0, 64, tcp ? 6 : 17, 0, 0,
                               10, 32, 0, 1, 10, 32, 0, 2]
            let ipSum = ~sum(ip)
            ip[10] = UInt8(ipSum >> 8)
            ip[11] = UInt8(ipSum & 0xFF)
            f += [0x08, 0x00] + ip
            pseudo = [10, 32, 0, 1, 10, 32, 0, 2, 0, tcp ? 6 : 17, UInt8(l4 >> 8), UInt8(l4 & 0xFF)]
        }
        var segment = [UInt8](repeating: 0, count: l4)
        segment[0] = 0x30; segment[1] = 0x39; segment[2] = 0x1F; segment[3] = 0x90
        if tcp {
            segment[12] = UInt8((l4Header / 4) << 4)
            segment[13] = flags
        } else {
            segment[4] = UInt8(l4 >> 8)
            segment[5] = UInt8(l4 & 0xFF)
        }
        for i in l4Header..<l4 { segment[i] = UInt8(truncatingIfNeeded: i &* 7 &+ 3) }
        let check = ~sum(pseudo + segment)
        segment[tcp ? 16 : 6] = UInt8(check >> 8)
        segment[tcp ? 17 : 7] = UInt8(check & 0xFF)
        return f + segment + [UInt8](repeating: 0, count: padding)
    }

    /// What the kernel does with `needsChecksum`: sums from the start to the end and stores the
    /// complement at the offset.
    static func finish(_ frame: inout [UInt8], _ h: OffloadHeader, length: Int) {
        let start = Int(h.checksumStart), at = start + Int(h.checksumOffset)
        let check = ~sum(frame[start..<length])
        frame[at] = UInt8(check >> 8)
        frame[at + 1] = UInt8(check & 0xFF)
    }

    static func prepare(_ frame: inout [UInt8], mtu: Int = 1376) -> (OffloadHeader, Int) {
        frame.withUnsafeMutableBytes { OffloadHeader.prepare($0, mtu: mtu) }
    }

    /// Whatever the checksum field held (the correct sum, or garbage), the kernel's completion of
    /// the prepared frame gives the correct checksum, for TCP and UDP over IPv4 and IPv6.
    @Test(arguments: [(true, false), (false, false), (true, true), (false, true)])
    func checksumCompletes(tcp: Bool, ipv6: Bool) {
        let correct = Self.frame(tcp: tcp, ipv6: ipv6, payload: 300)
        let at = (ipv6 ? 54 : 34) + (tcp ? 16 : 6)
        for garbage in [false, true] {
            var f = correct
            if garbage { f[at] = 0x12; f[at + 1] = 0x34 }
            let (h, length) = Self.prepare(&f)
            #expect(length == correct.count)
            #expect(h.flags == OffloadHeader.needsChecksum && h.gsoType == OffloadHeader.gsoNone)
            #expect(Int(h.checksumStart) == (ipv6 ? 54 : 34) && Int(h.checksumOffset) == (tcp ? 16 : 6))
            Self.finish(&f, h, length: length)
            #expect(f == correct)
        }
    }

    /// A TCP packet longer than the MTU is cut at the MSS the MTU gives (its headers and
    /// options taken off); CWR marks it ECN; it counts as a super-frame only when captured whole.
    @Test func superFrames() {
        var f = Self.frame(payload: 30000)
        #expect(f.withUnsafeBytes { OffloadHeader.isSuperFrame($0) })
        #expect(!Array(f.dropLast()).withUnsafeBytes { OffloadHeader.isSuperFrame($0) })
        let (h, length) = Self.prepare(&f)
        #expect(h.gsoType == OffloadHeader.gsoTCPv4 && h.segmentSize == 1376 - 20 - 32 && h.headerLength == 14 + 20 + 32)
        #expect(length == f.count)
        var v6 = Self.frame(ipv6: true, payload: 30000, tcpOptions: 0)
        let (h6, _) = Self.prepare(&v6, mtu: 9000)
        #expect(h6.gsoType == OffloadHeader.gsoTCPv6 && h6.segmentSize == 9000 - 40 - 20)
        var cwr = Self.frame(payload: 30000, flags: 0x90)
        #expect(Self.prepare(&cwr).0.gsoType == OffloadHeader.gsoTCPv4 | OffloadHeader.gsoECN)
        var fits = Self.frame(payload: 1376 - 20 - 32)
        #expect(Self.prepare(&fits).0.gsoType == OffloadHeader.gsoNone)
        // Oversized UDP, and IP fragments, are not super-frames (they get the ICMP answer).
        #expect(!Self.frame(tcp: false, payload: 3000).withUnsafeBytes { OffloadHeader.isSuperFrame($0) })
        #expect(!Self.frame(payload: 3000, fragment: true).withUnsafeBytes { OffloadHeader.isSuperFrame($0) })
    }

    /// Ethernet padding after a short packet stays out of the injected length; UDP sent without
    /// a checksum, IP fragments, ARP and malformed frames go untouched with an empty header.
    @Test func leavesAlone() {
        var padded = Self.frame(payload: 0, tcpOptions: 0, padding: 6)
        #expect(Self.prepare(&padded).1 == padded.count - 6)
        var noChecksum = Self.frame(tcp: false, payload: 10)
        noChecksum[40] = 0; noChecksum[41] = 0
        let before = noChecksum
        #expect(Self.prepare(&noChecksum).0 == OffloadHeader() && noChecksum == before)
        for var f in [Self.frame(payload: 100, fragment: true),
                      [UInt8](repeating: 0xFF, count: 12) + [0x08, 0x06] + [UInt8](repeating: 1, count: 28),
                      Array(Self.frame(payload: 100).prefix(40))] {
            let copy = f
            let (h, length) = Self.prepare(&f)
            #expect(h == OffloadHeader() && length == copy.count && f == copy)
        }
    }

    /// The header's layout as the kernel reads it (struct virtio_net_hdr, native order).
    @Test func layout() {
        var h = OffloadHeader()
        h.flags = 1; h.gsoType = 4; h.headerLength = 0x0102; h.segmentSize = 0x0304; h.checksumStart = 0x0506; h.checksumOffset = 0x0708
        var out = [UInt8](repeating: 0, count: OffloadHeader.size)
        out.withUnsafeMutableBytes { h.write(to: $0.baseAddress!) }
        #expect(out == [1, 4, 0x02, 0x01, 0x04, 0x03, 0x06, 0x05, 0x08, 0x07])
    }
}
