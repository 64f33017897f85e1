/// A domain name as its uncompressed wire form (length-prefixed labels, ending in the root's
/// zero byte), the shape every comparison and the compression table work on. Compared
/// case-insensitively (RFC 4343): `key` folds ASCII letters to lower case.
public struct DNSName: Hashable, Sendable, CustomStringConvertible {
    /// The wire form, at most 255 bytes, as it was written (case kept).
    public let wire: [UInt8]

    public static let maxLength = 255
    public static let maxLabel = 63
    public static let root = DNSName(trustedWire: [0])

    /// Wraps a wire form the caller has validated (the DNS codec).
    package init(trustedWire: [UInt8]) { wire = trustedWire }

    /// Parses dotted text (`c1.weft.local.` or `c1.weft.local`); nil for an empty label, a label
    /// over 63 bytes, or a name over 255 bytes. `\.` and `\DDD` escapes are not supported.
    public init?(_ text: String) {
        var wire: [UInt8] = []
        let trimmed = text.hasSuffix(".") ? String(text.dropLast()) : text
        if !trimmed.isEmpty {
            for label in trimmed.split(separator: ".", omittingEmptySubsequences: false) {
                let bytes = Array(label.utf8)
                guard !bytes.isEmpty, bytes.count <= Self.maxLabel else { return nil }
                wire.append(UInt8(bytes.count))
                wire += bytes
            }
        }
        wire.append(0)
        guard wire.count <= Self.maxLength else { return nil }
        self.wire = wire
    }

    /// The labels, leftmost first, without the root.
    public var labels: [ArraySlice<UInt8>] {
        var result: [ArraySlice<UInt8>] = []
        var i = 0
        while wire[i] != 0 {
            let n = Int(wire[i])
            result.append(wire[(i + 1)...(i + n)])
            i += n + 1
        }
        return result
    }

    /// The name with ASCII letters in lower case: what lookups key on.
    public var lowercased: DNSName {
        DNSName(trustedWire: wire.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 })
    }

    /// Whether this name is `suffix` or below it (case-insensitively).
    public func isSubdomain(of suffix: DNSName) -> Bool {
        guard wire.count >= suffix.wire.count else { return false }
        // Walk label boundaries so `xweft.local.` is not below `weft.local.`.
        var i = 0
        while wire.count - i > suffix.wire.count {
            i += Int(wire[i]) + 1
        }
        guard wire.count - i == suffix.wire.count else { return false }
        return zip(wire[i...], suffix.wire).allSatisfy { Self.fold($0) == Self.fold($1) }
    }

    /// The name without its first `count` labels (the root stays).
    public func dropping(labels count: Int) -> DNSName {
        var i = 0
        for _ in 0..<count where wire[i] != 0 { i += Int(wire[i]) + 1 }
        return DNSName(trustedWire: Array(wire[i...]))
    }

    /// `self` followed by `suffix`; nil when the result would exceed 255 bytes.
    public func appending(_ suffix: DNSName) -> DNSName? {
        let joined = wire.dropLast() + suffix.wire
        return joined.count <= Self.maxLength ? DNSName(trustedWire: Array(joined)) : nil
    }

    /// Dotted text with the trailing dot; bytes outside printable ASCII, dots and backslashes
    /// inside labels as `\DDD`.
    public var description: String {
        if wire == [0] { return "." }
        var s = ""
        for label in labels {
            for b in label {
                if b > 0x20, b < 0x7F, b != 0x2E, b != 0x5C {
                    s.unicodeScalars.append(Unicode.Scalar(b))
                } else {
                    s += "\\" + String(repeating: "0", count: b < 10 ? 2 : b < 100 ? 1 : 0) + String(b)
                }
            }
            s += "."
        }
        return s
    }

    /// ASCII letters folded to lower case (RFC 4343), other bytes as they are.
    @inline(__always) public static func fold(_ b: UInt8) -> UInt8 { (0x41...0x5A).contains(b) ? b | 0x20 : b }
}

extension DNSName {
    /// The reverse-lookup name of an IPv4 address: `d.c.b.a.in-addr.arpa.`.
    public init(reverse address: UInt32) {
        let text = (0..<4).map { String(address >> (8 * $0) & 0xFF) }.joined(separator: ".") + ".in-addr.arpa."
        self = DNSName(text)!
    }

    static let reverseZone = DNSName("in-addr.arpa.")!

    /// The IPv4 address a full `d.c.b.a.in-addr.arpa.` name stands for; nil for anything else.
    public var reverseAddress: UInt32? {
        guard isSubdomain(of: Self.reverseZone) else { return nil }
        let parts = labels
        guard parts.count == 6 else { return nil }
        var address: UInt32 = 0
        for (i, label) in parts.prefix(4).enumerated() {
            guard (1...3).contains(label.count), label.allSatisfy({ (0x30...0x39).contains($0) }),
                  label.count == 1 || label.first != 0x30 else { return nil }
            let value = label.reduce(0) { $0 * 10 + Int($1 - 0x30) }
            guard value <= 255 else { return nil }
            address |= UInt32(value) << (8 * UInt32(i))
        }
        return address
    }
}

extension DNSName {
    /// Accepts an uncompressed wire form from the network: labels of 1–63 bytes, the root at
    /// the end and nowhere before it, at most 255 bytes; nil otherwise.
    public init?(validatingWire wire: [UInt8]) {
        guard !wire.isEmpty, wire.count <= Self.maxLength else { return nil }
        var i = 0
        while i < wire.count, wire[i] != 0 {
            guard wire[i] <= Self.maxLabel else { return nil }
            i += Int(wire[i]) + 1
        }
        guard i == wire.count - 1 else { return nil }
        self.init(trustedWire: wire)
    }
}
