/// The paths of the router's local API (docs/api.md), shared by the router and its clients.
public enum APIPath {
    public static let status = "/status"
    public static let report = "/report"
    public static let metrics = "/metrics"
    public static let version = "/version"
    public static let connect = "/connect"
    public static let forget = "/forget"
    public static let stop = "/stop"
    /// `DELETE`: leave the mesh for good (reset).
    public static let peer = "/peer"
    public static let attach = "/attach"
    public static let detach = "/detach"
    public static let ps = "/ps"
    public static let expose = "/expose"
    public static let hide = "/hide"
    public static let ring = "/ring"

    /// `/status/PART` (peers, connections, targets, ipam, dns).
    public static func status(_ part: String) -> String { "/status/" + part }

    /// `/ip/ID[/…]`: IPAM calls for a container ID.
    public static func ip(_ id: String, _ rest: String...) -> String { ip(id, rest) }

    /// `/ip/ID/…` from its components.
    public static func ip(_ id: String, _ rest: [String]) -> String { join("ip", [id] + rest) }

    /// `/name/ID[/IP]` or `/name/NAME`: DNS calls.
    public static func name(_ parts: String...) -> String { name(parts) }

    /// `/name/…` from its components.
    public static func name(_ parts: [String]) -> String { join("name", parts) }

    /// `DELETE /peer/NAME`: rmpeer.
    public static func peer(_ name: String) -> String { join("peer", [name]) }

    private static func join(_ head: String, _ parts: [String]) -> String {
        "/" + head + parts.map { "/" + percentEncode($0) }.joined()
    }

    /// Percent-encodes everything but ASCII letters, digits and `-._~:[]`, byte by byte of the
    /// UTF-8 form (for path components and form fields).
    public static func percentEncode(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                 UInt8(ascii: "~"), UInt8(ascii: ":"), UInt8(ascii: "["), UInt8(ascii: "]"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(b >> 4)], hex[Int(b & 0xF)]], as: UTF8.self)
            }
        }
        return out
    }

    /// Undoes percent-encoding (`%2F` → `/`), byte by byte of the UTF-8 form; nil for a `%`
    /// without two hex digits after it, or bytes that are not UTF-8.
    public static func percentDecode(_ s: some StringProtocol) -> String? {
        var out: [UInt8] = []
        var bytes = Array(s.utf8)[...]
        while let b = bytes.popFirst() {
            guard b == UInt8(ascii: "%") else { out.append(b); continue }
            guard bytes.count >= 2, let byte = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16) else { return nil }
            out.append(byte)
            bytes = bytes.dropFirst(2)
        }
        return String(validating: out, as: UTF8.self)
    }
}
