extension StringProtocol {
    /// Without the white space (spaces, tabs, line breaks) at both ends: what reading a line of
    /// a file or a flag needs, without Foundation's character sets.
    public var trimmed: String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}

extension Sequence where Element == UInt8 {
    /// Lower-case hex, two digits a byte.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in self { out += [digits[Int(b >> 4)], digits[Int(b & 0xF)]] }
        return String(decoding: out, as: UTF8.self)
    }
}

/// True for a Linux interface name: 1 to 15 bytes of printable ASCII, none of them `/` or `:`,
/// and not `.` or `..`.
public func isInterfaceName(_ s: String) -> Bool {
    (1...15).contains(s.utf8.count) && s != "." && s != ".."
        && s.utf8.allSatisfy { $0 > 32 && $0 < 127 && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: ":") }
}
