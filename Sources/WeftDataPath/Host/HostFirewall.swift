import CNftables
public import Logging
import Synchronization
import WeftTypes

/// The nftables rules (table `inet weft`, in the host's namespace) that keep the data path's
/// doors shut, through libnftables (the rules in their text form, as `nft` takes them, applied
/// as one netlink transaction: simpler to read and review than hand-built nfnetlink messages,
/// and the library is Debian's, beside the `nft` tool):
///
/// - UDP 6784 (the kernel's VXLAN device, which with learning off takes frames from any source)
///   only from the fast path's peers: the set `fastdp_peers`, kept in step with the neighbours
///   the fast path probes (probes travel the same port, so a peer is admitted while it is a
///   candidate, and removed at the first tick after it leaves);
/// - the service address (the DNS's 169.254.53.53, on the bridge) only for UDP and TCP 53 from
///   the bridge: a container cannot reach the host's other services through it (sshd, the
///   router's own 6783/6784). The host itself (over `lo`) is not restricted.
///
/// Dropped packets are counted by the rules' named counters (`weft_firewall_dropped_total`).
public final class HostFirewall: Sendable {
    public static let table = "weft"

    /// libnftables' context: used only under `state`'s lock, and freed once, in deinit.
    private final class Context: @unchecked Sendable {
        let pointer: OpaquePointer
        init?() {
            guard let p = nft_ctx_new(0) else { return nil }
            pointer = p
            nft_ctx_buffer_output(p)
            nft_ctx_buffer_error(p)
        }
        deinit { nft_ctx_free(pointer) }
    }

    /// The context (not thread-safe: used under this lock) and the peers in the set as last
    /// written.
    private let state: Mutex<(context: Context, peers: Set<UInt32>?)>
    private let vxlanPort: UInt16?
    private let logger: Logger
    /// Removes the table whether or not it exists (adding an existing table is no error).
    private static let removal = "add table inet \(table)\ndelete table inet \(table)\n"

    /// Writes the table afresh (`vxlanPort` nil: no VXLAN rule; `serviceAddress` nil: no
    /// service rule); with neither, removes it.
    public init(vxlanPort: UInt16?, serviceAddress: UInt32?, bridge: String, logger: Logger) throws(DataPathError) {
        guard let context = Context() else { throw DataPathError("cannot create a libnftables context") }
        self.vxlanPort = vxlanPort
        self.logger = logger
        var rules: [String] = []
        if let vxlanPort {
            rules.append("udp dport \(vxlanPort) ip saddr != @fastdp_peers counter name vxlan_refused drop")
        }
        if let serviceAddress {
            let address = IPv4.format(serviceAddress)
            rules.append("iifname \"\(bridge)\" ip daddr \(address) meta l4proto { tcp, udp } th dport 53 accept")
            rules.append("iifname \"\(bridge)\" ip daddr \(address) counter name service_refused drop")
        }
        // Whatever an earlier run left goes first, in the same transaction.
        var script = Self.removal
        if !rules.isEmpty {
            script += """
                table inet \(Self.table) {
                    set fastdp_peers { type ipv4_addr; }
                    counter vxlan_refused { }
                    counter service_refused { }
                    chain input {
                        type filter hook input priority filter; policy accept;
                        \(rules.joined(separator: "\n        "))
                    }
                }

                """
        }
        try Self.run(script, context)
        state = Mutex((context, nil))
    }

    /// Makes the set of peers allowed on the VXLAN port `peers` (underlay addresses); writes
    /// only when it changed.
    public func allow(_ peers: Set<UInt32>) {
        guard vxlanPort != nil else { return }
        state.withLock { s in
            guard s.peers != peers else { return }
            var script = "flush set inet \(Self.table) fastdp_peers\n"
            if !peers.isEmpty {
                script += "add element inet \(Self.table) fastdp_peers { \(peers.sorted().map(IPv4.format).joined(separator: ", ")) }\n"
            }
            do {
                try Self.run(script, s.context)
                s.peers = peers
            } catch {
                // Left as it was (the next tick tries again): a peer not yet admitted stays on
                // the sleeve; one not yet removed keeps its door open a second longer.
                logger.error("firewall: \(error)")
                s.peers = nil
            }
        }
    }

    /// Packets the rules dropped: (rule, count) for `vxlan` and `service`.
    public func dropped() -> [(rule: String, packets: Int)] {
        // No table (or no counters in it): nothing dropped to report.
        guard let text = state.withLock({ s in try? Self.output("list counters table inet \(Self.table)", s.context) }) else {
            return []
        }
        // "counter vxlan_refused {\n packets 3 bytes 420\n }": the number after "packets".
        var result: [(String, Int)] = []
        var name: String?
        for word in text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }) {
            if word.hasSuffix("_refused") { name = String(word.dropLast("_refused".count)) }
            if let n = name, let packets = Int(word), result.last?.0 != n {
                result.append((n, packets))
                name = nil
            }
        }
        return result
    }

    /// Removes the table (reset, or a relaunch with neither rule).
    public func remove() {
        state.withLock { s in
            do { try Self.run(Self.removal, s.context) } catch {
                logger.warning("firewall: cannot remove table inet \(Self.table): \(error)")
            }
        }
    }

    private static func run(_ script: String, _ context: Context) throws(DataPathError) { _ = try output(script, context) }

    /// Runs `script`; returns what it printed.
    private static func output(_ script: String, _ context: Context) throws(DataPathError) -> String {
        let p = context.pointer
        guard nft_run_cmd_from_buffer(p, script) == 0 else {
            let error = nft_ctx_get_error_buffer(p).map { String(cString: $0) } ?? "unknown error"
            throw DataPathError("nftables: \(error.split(separator: "\n").first ?? "")")
        }
        return nft_ctx_get_output_buffer(p).map { String(cString: $0) } ?? ""
    }
}
