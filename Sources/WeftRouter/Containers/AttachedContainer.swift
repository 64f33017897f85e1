import Foundation
import WeftTypes

/// A container plugged into the `weft` bridge by `weft attach`, as `containers.json` keeps it.
struct AttachedContainer: Codable, Equatable, Sendable {
    var id: String
    /// The namespace as given: a name under /run/netns, a path, or a PID.
    var netns: String
    var hostname: String?
    /// More names of the same addresses (CNI network aliases).
    var aliases: [String]?
    var mac: String
    var cidrs: [String]
    /// The host end of its veth pair, a port of the bridge.
    var hostLink: String
    /// Its interface inside the namespace; nil is `ethwe` (files written before CNI).
    var interface: String?
    /// Its default route's next hop, the bridge's overlay address (CNI containers).
    var gateway: String?

    /// Every name it is registered under: the hostname, then the aliases.
    var names: [String] { (hostname.map { [$0] } ?? []) + (aliases ?? []) }

    /// A stable, locally administered unicast MAC for a container ID (FNV-1a of the ID): a
    /// container attached again keeps its MAC, so peers' forwarding tables stay right.
    static func mac(for id: String) -> MAC {
        let h = fnv1a(id)
        var bytes = (0..<6).map { UInt8(truncatingIfNeeded: h >> (8 * UInt64($0))) }
        bytes[0] = bytes[0] & 0xFC | 0x02
        return MAC(rawValue: bytes.reduce(0) { $0 << 8 | UInt64($1) })
    }

    /// `vethwepl` and seven hex digits of the ID's hash: within the 15-byte limit of link names.
    static func hostLink(for id: String) -> String {
        "vethwepl" + String(String(fnv1a(id) >> 36, radix: 16).suffix(7))
    }

    static func fnv1a(_ s: String) -> UInt64 {
        s.utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }
}
