/// The virtio-net header the sleeve puts before every frame it injects (a packet socket with
/// `PACKET_VNET_HDR`): it tells the kernel which checksum is still to be finished and how to
/// cut a TCP super-frame into segments, so a super-frame captured on one host reaches the
/// container on another as one packet.
///
/// The capture port keeps checksum and TCP segmentation offload (sleeve.md), so frames arrive
/// in pcap as the containers' stacks handed them over: TCP and UDP checksums unfinished, TCP
/// bursts as super-frames of up to 64 KiB. The sender cannot tell which (libpcap passes no
/// offload state); the receiver needs no telling: for every TCP or UDP packet it writes the
/// pseudo-header sum into the checksum field and asks the kernel to finish it
/// (`needsChecksum`), which is right whatever the field held; a TCP packet longer than the
/// overlay MTU is marked for segmentation at the MSS that MTU gives.
public struct OffloadHeader: Equatable, Sendable {
    /// `VIRTIO_NET_HDR_F_NEEDS_CSUM`: the checksum at `checksumStart + checksumOffset` is the
    /// pseudo-header sum; the kernel completes it over the bytes from `checksumStart`.
    public static let needsChecksum: UInt8 = 1
    /// `VIRTIO_NET_HDR_GSO_*`.
    public static let gsoNone: UInt8 = 0, gsoTCPv4: UInt8 = 1, gsoTCPv6: UInt8 = 4
    /// `VIRTIO_NET_HDR_GSO_ECN`: the super-frame carries CWR (set on its first segment only).
    public static let gsoECN: UInt8 = 0x80
    /// Bytes of `struct virtio_net_hdr`.
    public static let size = 10

    public var flags: UInt8 = 0
    public var gsoType: UInt8 = Self.gsoNone
    /// Bytes of the Ethernet, IP and TCP headers of a super-frame.
    public var headerLength: UInt16 = 0
    /// Payload bytes per segment.
    public var segmentSize: UInt16 = 0
    public var checksumStart: UInt16 = 0
    public var checksumOffset: UInt16 = 0

    public init() {}

    /// The header for `frame`, whose TCP or UDP checksum field it sets to the pseudo-header sum;
    /// the second value is how many bytes of `frame` to inject (Ethernet padding after the IP
    /// packet is left out: the kernel would sum it into the checksum). Frames of other kinds
    /// (ARP, ICMP, IP fragments, malformed ones) get an empty header and go as they are.
    public static func prepare(_ frame: UnsafeMutableRawBufferPointer, mtu: Int) -> (OffloadHeader, Int) {
        guard let p = Packet(UnsafeRawBufferPointer(frame)) else { return (OffloadHeader(), frame.count) }
        var h = OffloadHeader()
        let field = p.transport + (p.isTCP ? 16 : 6)
        var sum = UInt32(p.isTCP ? 6 : 17) + UInt32(p.transportLength)
        var i = p.addresses
        while i < p.addresses + (p.isIPv6 ? 32 : 8) {
            sum += UInt32(frame[i]) << 8 | UInt32(frame[i + 1])
            i += 2
        }
        if !p.isTCP, frame[field] == 0, frame[field + 1] == 0 {
            // UDP over IPv4 sent without a checksum: nothing to finish.
            return (h, p.end)
        }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        frame[field] = UInt8(sum >> 8)
        frame[field + 1] = UInt8(sum & 0xFF)
        h.flags = needsChecksum
        h.checksumStart = UInt16(p.transport)
        h.checksumOffset = p.isTCP ? 16 : 6
        if p.isTCP {
            let tcpHeader = Int(frame[p.transport + 12] >> 4) * 4
            let segment = mtu - (p.transport - 14) - tcpHeader
            if p.transportLength - tcpHeader > segment, segment > 0 {
                h.gsoType = p.isIPv6 ? gsoTCPv6 : gsoTCPv4
                if frame[p.transport + 13] & 0x80 != 0 { h.gsoType |= gsoECN }
                h.headerLength = UInt16(p.transport + tcpHeader)
                h.segmentSize = UInt16(segment)
            }
        }
        return (h, p.end)
    }

    /// Whether a frame longer than the overlay MTU is a TCP super-frame the sleeve carries whole
    /// (an IPv4 or IPv6 TCP packet, not a fragment, captured completely): the receiver's kernel
    /// cuts it into segments that fit. Any other oversized frame is answered or dropped.
    public static func isSuperFrame(_ frame: UnsafeRawBufferPointer) -> Bool {
        guard let p = Packet(frame), p.isTCP else { return false }
        return p.end == frame.count
    }

    /// Writes the header as the kernel reads it (native byte order).
    @inline(__always)
    public func write(to out: UnsafeMutableRawPointer) {
        out.storeBytes(of: flags, as: UInt8.self)
        out.storeBytes(of: gsoType, toByteOffset: 1, as: UInt8.self)
        out.storeBytes(of: headerLength, toByteOffset: 2, as: UInt16.self)
        out.storeBytes(of: segmentSize, toByteOffset: 4, as: UInt16.self)
        out.storeBytes(of: checksumStart, toByteOffset: 6, as: UInt16.self)
        out.storeBytes(of: checksumOffset, toByteOffset: 8, as: UInt16.self)
    }

    /// A TCP or UDP packet in an Ethernet frame: where its addresses and transport header are.
    private struct Packet {
        /// Offset of the source address (the destination follows it), of the transport header,
        /// and the end of the IP packet.
        var addresses: Int, transport: Int, end: Int
        var transportLength: Int
        var isTCP: Bool, isIPv6: Bool

        @inline(__always)
        init?(_ f: UnsafeRawBufferPointer) {
            guard f.count >= 14 + 20 else { return nil }
            let protocolNumber: UInt8
            if f[12] == 0x08, f[13] == 0x00, f[14] >> 4 == 4 {
                let ihl = Int(f[14] & 0x0F) * 4
                let total = Int(f[16]) << 8 | Int(f[17])
                // Not a fragment (MF clear, offset 0): only then is the transport header here.
                guard ihl >= 20, total >= ihl, 14 + total <= f.count, f[20] & 0x3F == 0, f[21] == 0 else { return nil }
                protocolNumber = f[23]
                (addresses, transport, end, isIPv6) = (26, 14 + ihl, 14 + total, false)
            } else if f[12] == 0x86, f[13] == 0xDD, f.count >= 14 + 40, f[14] >> 4 == 6 {
                let payload = Int(f[18]) << 8 | Int(f[19])
                guard 54 + payload <= f.count else { return nil }
                // Only a transport header right after the fixed one (no extension headers).
                protocolNumber = f[20]
                (addresses, transport, end, isIPv6) = (22, 54, 54 + payload, true)
            } else {
                return nil
            }
            guard protocolNumber == 6 || protocolNumber == 17 else { return nil }
            isTCP = protocolNumber == 6
            transportLength = end - transport
            guard transportLength >= (isTCP ? 20 : 8) else { return nil }
            if isTCP {
                let tcpHeader = Int(f[transport + 12] >> 4) * 4
                guard tcpHeader >= 20, tcpHeader <= transportLength else { return nil }
            }
        }
    }
}
