/// A peer's control address: `host`, `host:port`, `[v6]` or `[v6]:port` (a bare IPv6 address
/// takes the default port). Its description is the canonical `host:port` form targets use.
public struct PeerAddress: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init?(_ text: String, defaultPort: Int) {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if rest.isEmpty {
                port = defaultPort
            } else {
                guard rest.hasPrefix(":"), let p = Int(rest.dropFirst()), (1...65535).contains(p) else { return nil }
                port = p
            }
            guard !host.isEmpty else { return nil }
            return
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        switch parts.count {
        case 1:
            guard !text.isEmpty else { return nil }
            (host, port) = (text, defaultPort)
        case 2:
            guard !parts[0].isEmpty, let p = Int(parts[1]), (1...65535).contains(p) else { return nil }
            (host, port) = (String(parts[0]), p)
        default:
            (host, port) = (text, defaultPort)  // a bare IPv6 address
        }
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
