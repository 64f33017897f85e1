/// An IPv4 network in CIDR form: `address/prefix`, with `address` the network's first address.
/// Addresses are 32-bit values in host order; the range is `[start, end)`, so `end` is one past
/// the last address (a subnet ending at 255.255.255.255 is refused, since `end` would not fit).
public struct Subnet: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let start: UInt32
    public let prefix: Int

    /// The network of `prefix` bits at `start` (bits below the prefix must be zero).
    public init?(start: UInt32, prefix: Int) {
        guard (1...32).contains(prefix) else { return nil }
        let size = UInt64(1) << UInt64(32 - prefix)
        guard UInt64(start) % size == 0, UInt64(start) + size <= UInt64(UInt32.max) else { return nil }
        self.start = start
        self.prefix = prefix
    }

    /// Parses `a.b.c.d/n`; nil unless the address is the network's first one.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPv4.parse(String(parts[0])),
              let prefix = Int(parts[1]) else { return nil }
        self.init(start: address, prefix: prefix)
    }

    /// One past the last address.
    public var end: UInt32 { start + UInt32(size) }
    public var size: UInt64 { UInt64(1) << UInt64(32 - prefix) }

    /// True when `address` is inside.
    public func contains(_ address: UInt32) -> Bool { address >= start && address < end }

    /// True when all of `other` is inside.
    public func contains(_ other: Subnet) -> Bool { other.start >= start && other.end <= end }

    /// The addresses containers may get: all but the network and broadcast addresses (a /31 or
    /// /32 has none to spare, so all of it).
    public var usable: (from: UInt32, to: UInt32) { prefix >= 31 ? (start, end) : (start + 1, end - 1) }

    /// `address` with this subnet's prefix, as a container gets it: `10.32.0.5/12`.
    public func cidr(_ address: UInt32) -> String { "\(IPv4.format(address))/\(prefix)" }

    public var description: String { cidr(start) }

    public static func < (lhs: Subnet, rhs: Subnet) -> Bool { (lhs.start, lhs.prefix) < (rhs.start, rhs.prefix) }
}
