import FoundationEssentials
import Glibc
import WeftDataPath
import WeftDNS
import WeftIPAM
import WeftMesh
import WeftTypes

/// The text of `weft status` and its sections, in the shape of `weave status`.
enum StatusText {
    /// The sections after the router's, as `weave status` shows them: each a title and rows.
    typealias Section = (service: String, rows: [(String, String)])

    static func summary(_ s: MeshStatus, version: String, sections: [Section] = []) -> String {
        let byState = Dictionary(grouping: s.connections, by: \.state).map { "\($0.value.count) \($0.key)" }.sorted()
        let peerConnections = s.peers.reduce(0) { $0 + $1.connections.values.filter(\.established).count }
        let rows: [(String, String)] = [
            ("Version", version),
            ("", ""),
            ("Service", "router"),
            ("Protocol", "weft \(s.protocolRange.lowerBound)..\(s.protocolRange.upperBound)"),
            ("Name", "\(s.identity.name)(\(s.identity.nickname))"),
            ("Encryption", s.encrypted ? "enabled" : "disabled"),
            ("PeerDiscovery", s.discovery ? "enabled" : "disabled"),
            ("Targets", "\(s.targets.count)"),
            ("Connections", "\(s.connections.count)" + (s.connections.isEmpty ? "" : " (\(byState.joined(separator: ", ")))")),
            ("Peers", "\(s.peers.count) (with \(peerConnections) established connections)"),
            ("ConnLimit", s.connLimit == 0 ? "none" : "\(s.connLimit)"),
        ]
        let all = sections.reduce(rows) { $0 + [("", ""), ("Service", $1.service)] + $1.rows }
        return "\n" + all.map { $0.0.isEmpty ? "" : pad($0.0, 15) + ": " + $0.1 }.joined(separator: "\n") + "\n"
    }

    static func peers(_ s: MeshStatus) -> String {
        var lines: [String] = []
        for p in s.peers {
            lines.append("\(p.name)(\(p.nickname))")
            for c in p.connections.values.sorted(by: { $0.remote < $1.remote }) {
                let nick = s.nickname(of: c.remote).map { "(\($0))" } ?? ""
                lines.append("   \(c.outbound ? "->" : "<-") \(column(c.address, 22)) \(c.remote)\(nick)  \(c.established ? "established" : "pending")")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `weft status connections`: one line per connection; an established one says its data
    /// path and, on the sleeve, why not the fast path.
    static func connections(_ s: MeshStatus, dataPath: DataPathStatus) -> String {
        s.connections.map { c in
            var line = "\(c.outbound ? "->" : "<-") \(column(c.address, 22)) \(column(c.state, 11))"
            if c.state == "established" {
                let path = c.peer.map(dataPath.fastdp.contains) == true ? "fastdp"
                    : c.peer.flatMap { dataPath.direct[$0] } == true ? "sleeve" : "sleeve(relay)"
                line += " \(c.encrypted ? "encrypted  " : "unencrypted") \(column(path, 13)) \(c.peer.map { "\($0)" } ?? "")(\(c.nickname ?? ""))"
                if path != "fastdp", let why = c.peer.flatMap({ dataPath.sleeveReasons[$0] }) { line += "  (\(why))" }
            } else if let info = c.info {
                line += " \(info)"
            }
            return line
        }.joined(separator: "\n") + (s.connections.isEmpty ? "" : "\n")
    }

    static func targets(_ s: MeshStatus) -> String {
        s.targets.map { t in
            "\(column(t.address, 22)) \(column(t.kind.rawValue, 10)) \(t.state.rawValue)" + (t.lastError.map { " (\($0))" } ?? "")
        }.joined(separator: "\n") + (s.targets.isEmpty ? "" : "\n")
    }

    /// `weft status ipam`: the range, then one line per owner of ring space.
    static func ipam(_ s: IPAMStatus) -> String {
        var lines = ["Range: \(s.range)  Mode: \(s.mode)  Allocated here: \(s.allocated)",
                     "Status: \(s.state)"]
        let total = s.owners.reduce(0) { $0 + $1.owned }
        for o in s.owners {
            let share = total == 0 ? 0 : Double(o.owned) * 100 / Double(total)
            let name = "\(o.name)(\(o.nickname ?? ""))"
            lines.append("\(column(name, 30)) \(pad(String(o.owned), 9)) IPs (\(percent(share))% of total) "
                         + "(\(o.free) available)" + (o.reachable ? "" : " - unreachable!"))
        }
        for (peer, reason) in s.conflicts { lines.append("Conflict with \(peer): \(reason)") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `weft status dns`: one line per record, like Weave's.
    static func dns(_ entries: [DNSEntry], domain: String) -> String {
        var lines = ["Domain: \(domain)  Address: \(IPv4.format(Router.dnsAddress)):53  Entries: \(entries.count)"]
        for e in entries {
            lines.append("\(column(e.hostname.description, 30)) \(column(IPv4.format(e.address), 15)) "
                         + "\(column(e.containerID, 20)) \(e.origin)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func column(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }

    private static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
    }
}

/// A share as Weave prints it: one decimal, at least five characters, zero-padded (`033.3`).
func percent(_ share: Double) -> String {
    let tenths = Int((share * 10).rounded())
    let whole = String(tenths / 10)
    return String(repeating: "0", count: max(0, 3 - whole.count)) + whole + "." + String(tenths % 10)
}
