/// A peer's 48-bit name, written like a MAC address (`ce:31:e0:06:45:1a`), as in Weave Net.
/// Names are compared numerically, which is the order every tie-break in the mesh uses.
public struct PeerName: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The name in the low 48 bits.
    public let rawValue: UInt64

    /// Wraps a raw value; bits above the 48th are dropped.
    public init(rawValue: UInt64) { self.rawValue = rawValue & 0xFFFF_FFFF_FFFF }

    /// Parses `aa:bb:cc:dd:ee:ff`; a `::` stands for the zero groups it replaces (`::1`).
    /// Returns nil for anything else.
    public init?(_ text: String) {
        let parts = text.lowercased().split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        var groups: [String]
        if let gap = text.firstRange(of: "::") {
            let head = text[..<gap.lowerBound].split(separator: ":").map(String.init)
            let tail = text[gap.upperBound...].split(separator: ":").map(String.init)
            guard head.count + tail.count < 6, !text[gap.upperBound...].contains("::") else { return nil }
            groups = head + Array(repeating: "0", count: 6 - head.count - tail.count) + tail
        } else {
            groups = parts
        }
        guard groups.count == 6 else { return nil }
        var value: UInt64 = 0
        for g in groups {
            guard (1...2).contains(g.count), let byte = UInt8(g, radix: 16) else { return nil }
            value = value << 8 | UInt64(byte)
        }
        self.init(rawValue: value)
    }

    /// A random name with the locally-administered bit set and the multicast bit clear, so it
    /// can never be mistaken for a real interface's address.
    public static func random(using rng: inout some RandomNumberGenerator) -> PeerName {
        var value = UInt64.random(in: 0...0xFFFF_FFFF_FFFF, using: &rng)
        value = (value | 0x0200_0000_0000) & ~0x0100_0000_0000
        return PeerName(rawValue: value)
    }

    public var description: String {
        (0..<6).reversed().map { i in
            let byte = UInt8(truncatingIfNeeded: rawValue >> (UInt64(i) * 8))
            return byte < 16 ? "0" + String(byte, radix: 16) : String(byte, radix: 16)
        }.joined(separator: ":")
    }

    public static func < (lhs: PeerName, rhs: PeerName) -> Bool { lhs.rawValue < rhs.rawValue }
}
