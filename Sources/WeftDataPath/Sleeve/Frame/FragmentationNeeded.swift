/// Builds the ICMP "fragmentation needed" (type 3, code 4) answer to an IPv4 frame too large
/// for the overlay, as Weave does: addressed back to the frame's sender, from the address it was
/// sent to, carrying the MTU to use. The sender's kernel then lowers its path MTU and sends
/// smaller packets (TCP re-segments at once), so nothing is silently lost.
public enum FragmentationNeeded {
    /// The answer frame written into `out` (at least 70 bytes); its length, or nil when `frame`
    /// is not an IPv4 packet with Don't Fragment set (those are dropped and counted instead).
    public static func answer(to frame: UnsafeRawBufferPointer, mtu: Int, into out: UnsafeMutableRawBufferPointer) -> Int? {
        guard frame.count >= 14 + 20, frame[12] == 0x08, frame[13] == 0x00, frame[14] >> 4 == 4 else { return nil }
        let ihl = Int(frame[14] & 0x0F) * 4
        guard ihl >= 20, frame.count >= 14 + ihl, frame[20] & 0x40 != 0 else { return nil }
        // Never answer an ICMP error with another.
        let isICMPError = frame[23] == 1 && frame.count > 14 + ihl && frame[14 + ihl] == 3
        guard !isICMPError else { return nil }
        let quoted = min(frame.count - 14, ihl + 8)
        let total = 20 + 8 + quoted
        guard out.count >= 14 + total else { return nil }
        // Ethernet: back to the sender.
        for i in 0..<6 {
            out[i] = frame[6 + i]
            out[6 + i] = frame[i]
        }
        out[12] = 0x08
        out[13] = 0x00
        // IPv4 header.
        let ip = 14
        let header: [UInt8] = [0x45, 0, UInt8(total >> 8), UInt8(total & 0xFF), 0, 0, 0, 0, 64, 1, 0, 0]
        for (i, b) in header.enumerated() { out[ip + i] = b }
        for i in 0..<4 {
            out[ip + 12 + i] = frame[14 + 16 + i]  // from: where the packet was going
            out[ip + 16 + i] = frame[14 + 12 + i]  // to: its sender
        }
        let ipSum = checksum(UnsafeRawBufferPointer(rebasing: out[ip..<(ip + 20)]))
        out[ip + 10] = UInt8(ipSum >> 8)
        out[ip + 11] = UInt8(ipSum & 0xFF)
        // ICMP: type 3 code 4, next-hop MTU, then the quoted header and 8 bytes.
        let icmp = ip + 20
        let icmpHeader: [UInt8] = [3, 4, 0, 0, 0, 0, UInt8(mtu >> 8), UInt8(mtu & 0xFF)]
        for (i, b) in icmpHeader.enumerated() { out[icmp + i] = b }
        for i in 0..<quoted { out[icmp + 8 + i] = frame[14 + i] }
        let icmpSum = checksum(UnsafeRawBufferPointer(rebasing: out[icmp..<(icmp + 8 + quoted)]))
        out[icmp + 2] = UInt8(icmpSum >> 8)
        out[icmp + 3] = UInt8(icmpSum & 0xFF)
        return 14 + total
    }

    /// The Internet checksum.
    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt16 {
        var sum: UInt32 = 0
        var i = 0
        while i + 1 < bytes.count {
            sum += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1])
            i += 2
        }
        if i < bytes.count { sum += UInt32(bytes[i]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }
}
