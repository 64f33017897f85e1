import FoundationEssentials
import Glibc
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
    /// Its interface was handed to the runtime to move (Docker), and its addresses are held
    /// by the runtime's IPAM calls, not freed with it.
    var handoff: Bool?

    /// Every name it is registered under: the hostname, then the aliases.
    var names: [String] { (hostname.map { [$0] } ?? []) + (aliases ?? []) }

    /// A stable MAC for a container ID: a container attached again keeps its MAC, so peers'
    /// forwarding tables stay right.
    static func mac(for id: String) -> MAC { MAC.stable(for: id) }

    /// `vethwepl` and seven hex digits of the ID's hash: within the 15-byte limit of link names.
    static func hostLink(for id: String) -> String {
        "vethwepl" + String(String(MAC.fnv1a(id) >> 36, radix: 16).suffix(7))
    }
}
