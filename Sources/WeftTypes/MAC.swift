/// A 48-bit Ethernet address, in the low bits.
public struct MAC: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue & 0xFFFF_FFFF_FFFF }

    /// Reads 6 bytes at `offset`.
    @inline(__always)
    public init(_ bytes: UnsafeRawBufferPointer, at offset: Int) {
        var v: UInt64 = 0
        for i in 0..<6 { v = v << 8 | UInt64(bytes[offset + i]) }
        rawValue = v
    }

    /// Group bit set: broadcast or multicast.
    public var isGroup: Bool { rawValue >> 40 & 1 == 1 }

    public var bytes: [UInt8] { (0..<6).map { UInt8(truncatingIfNeeded: rawValue >> (8 * UInt64(5 - $0))) } }

    /// Parses `aa:bb:cc:dd:ee:ff` (six groups of one or two hex digits); nil for anything else.
    public init?(_ text: String) {
        let groups = text.split(separator: ":", omittingEmptySubsequences: false)
        guard groups.count == 6 else { return nil }
        var value: UInt64 = 0
        for g in groups {
            guard (1...2).contains(g.count), let byte = UInt8(g, radix: 16) else { return nil }
            value = value << 8 | UInt64(byte)
        }
        rawValue = value
    }

    public var description: String {
        bytes.map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined(separator: ":")
    }

    /// A stable, locally administered unicast MAC for an ID (FNV-1a of it).
    public static func stable(for id: String) -> MAC {
        let h = fnv1a(id)
        var bytes = (0..<6).map { UInt8(truncatingIfNeeded: h >> (8 * UInt64($0))) }
        bytes[0] = bytes[0] & 0xFC | 0x02
        return MAC(rawValue: bytes.reduce(0) { $0 << 8 | UInt64($1) })
    }

    /// FNV-1a, 64 bits, of the UTF-8 form.
    public static func fnv1a(_ s: String) -> UInt64 {
        s.utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }
}
