public import ArgumentParser
import FoundationEssentials
import Glibc
public import WeftTypes

/// The router's flags. `weft launch` parses them (so its `--help` lists them and a bad flag is
/// refused before anything starts) and hands them to `weftd`, which parses them again; both
/// turn them into `RouterSettings` with `settings(environment:)`, the only place a flag's text
/// is read.
public struct RouterOptions: ParsableArguments, Sendable {
    @Option(help: "Peer name (48 bits, written like a MAC address); default: persisted in the state directory.")
    public var name: String?

    @Option(help: "Human-readable name of this peer (default: the host name).")
    public var nickname: String?

    @Option(help: "Password that encrypts and authenticates the mesh (or env WEFT_PASSWORD).")
    public var password: String?

    @Option(name: .customLong("password-file"), help: "File whose first line is the password.")
    public var passwordFile: String?

    @Option(name: .customLong("ipalloc-range"), help: "Address range for IPAM (empty: no IPAM).")
    public var ipallocRange: String = "10.32.0.0/12"

    @Option(name: .customLong("ipalloc-init"), help: "IPAM bootstrap: consensus[=N], seed=NAME,..., or observer.")
    public var ipallocInit: String?

    @Flag(name: .customLong("no-fastdp"), help: "Use only the sleeve data path.")
    public var noFastdp = false

    @Option(help: "MTU of the overlay (containers' ethwe): 1376 fits a 1500-byte underlay; up to 61440, carried in fragments.")
    public var mtu: Int = 1376

    @Option(name: .customLong("conn-limit"), help: "At most this many connections (0: no limit).")
    public var connLimit: Int = 200

    @Flag(name: .customLong("no-discovery"), help: "Do not connect to peers learned through gossip.")
    public var noDiscovery = false

    @Option(name: .customLong("dns-domain"), help: "Domain the embedded DNS answers for.")
    public var dnsDomain: String = "weft.local."

    @Flag(name: .customLong("no-dns"), help: "Do not run the embedded DNS server.")
    public var noDns = false

    @Option(name: .customLong("dns-ttl"), help: "TTL of DNS answers, in seconds.")
    public var dnsTtl: Int = 1

    @Option(name: .customLong("resolv-conf"), help: "Upstream resolvers for names outside the domain.")
    public var resolvConf: String = "/etc/resolv.conf"

    @Option(name: .customLong("trusted-subnets"), help: "Comma-separated CIDRs whose peers skip data encryption.")
    public var trustedSubnets: String?

    @Option(name: .customLong("state-dir"), help: "State directory (or env WEFT_STATE_DIR; default /var/lib/weft).")
    public var stateDir: String?

    @Option(help: "TCP control and UDP sleeve port.")
    public var port: Int = 6783

    @Option(name: .customLong("log-level"), help: "debug, info, warning or error.")
    public var logLevel: String = "info"

    @Argument(help: "Peers to connect to (host[:port]).")
    public var peers: [String] = []

    public init() {}

    public mutating func validate() throws {
        do { _ = try settings(environment: [:]) } catch { throw ValidationError(error.description) }
    }

    /// The options parsed into typed settings: the one place a flag's text is read. Throws the
    /// line to show the user for the first flag that does not parse.
    public func settings(environment: [String: String]) throws(ValueError) -> RouterSettings {
        guard (1...65535).contains(port) else { throw ValueError("--port must be between 1 and 65535") }
        guard connLimit >= 0 else { throw ValueError("--conn-limit must not be negative") }
        guard (576...61440).contains(mtu) else { throw ValueError("--mtu must be between 576 and 61440") }
        guard dnsTtl >= 0 else { throw ValueError("--dns-ttl must not be negative") }
        guard let domain = DNSName(dnsDomain), domain != .root else {
            throw ValueError("--dns-domain '\(dnsDomain)' is not a domain name (like weft.local.)")
        }
        guard let level = RouterSettings.LogLevel(rawValue: logLevel) else {
            throw ValueError("--log-level must be one of debug, info, warning, error")
        }
        var peerName: PeerName? = nil
        if let name {
            guard let parsed = PeerName(name) else {
                throw ValueError("--name '\(name)' is not a peer name (six hex bytes like 02:00:00:00:00:01)")
            }
            peerName = parsed
        }
        if let nickname, nickname.isEmpty || nickname.utf8.count > 255 {
            throw ValueError("--nickname must have 1 to 255 bytes")
        }
        if password != nil && passwordFile != nil {
            throw ValueError("give --password or --password-file, not both")
        }
        var range: Subnet? = nil
        if !ipallocRange.isEmpty {
            guard let r = Subnet(ipallocRange), r.prefix <= 30 else {
                throw ValueError("--ipalloc-range '\(ipallocRange)' is not a network like 10.32.0.0/12 (prefix 1 to 30)")
            }
            range = r
        }
        let mode = try BootstrapMode.parse(ipallocInit, initialPeers: peers.count)
        var trusted: [Subnet] = []
        if let trustedSubnets, !trustedSubnets.isEmpty {
            for text in trustedSubnets.split(separator: ",") {
                guard let subnet = Subnet(text.trimmed) else {
                    throw ValueError("--trusted-subnets must be comma-separated networks like 198.18.0.0/24")
                }
                trusted.append(subnet)
            }
        }
        return RouterSettings(
            name: peerName, nickname: nickname, port: port, connLimit: connLimit, discovery: !noDiscovery,
            ipamRange: range, ipamMode: mode, fastdp: !noFastdp, mtu: mtu, trustedSubnets: trusted,
            dns: noDns ? nil : .init(domain: domain.lowercased, ttl: UInt32(clamping: dnsTtl), resolvConf: resolvConf),
            stateDirectory: resolvedStateDir(environment: environment), logLevel: level, peers: peers)
    }

    /// The state directory these options and the environment select.
    public func resolvedStateDir(environment: [String: String]) -> String {
        stateDir ?? environment["WEFT_STATE_DIR"] ?? "/var/lib/weft"
    }

    /// The options as `weftd` arguments, without the password (it travels in the environment so
    /// it never shows in the process list).
    public var daemonArguments: [String] {
        var args: [String] = []
        func add(_ flag: String, _ value: String?) { if let value { args += [flag, value] } }
        add("--name", name)
        add("--nickname", nickname)
        add("--ipalloc-range", ipallocRange)
        add("--ipalloc-init", ipallocInit)
        if noFastdp { args.append("--no-fastdp") }
        add("--mtu", String(mtu))
        add("--conn-limit", String(connLimit))
        if noDiscovery { args.append("--no-discovery") }
        add("--dns-domain", dnsDomain)
        if noDns { args.append("--no-dns") }
        add("--dns-ttl", String(dnsTtl))
        add("--resolv-conf", resolvConf)
        add("--trusted-subnets", trustedSubnets)
        add("--state-dir", stateDir)
        add("--port", String(port))
        add("--log-level", logLevel)
        return args + (peers.isEmpty ? [] : ["--"] + peers)
    }
}

/// Reads the password from the flags, a file or the environment (in that order).
extension RouterOptions {
    public func resolvedPassword(environment: [String: String], readFile: (String) throws -> String) throws -> String? {
        try resolvedPassword(environment: environment, readFile: readFile, warn: { _ in })
    }

    /// The same, calling `warn` with a line for the user when the password file can be read
    /// by other users than its owner.
    public func resolvedPassword(environment: [String: String], readFile: (String) throws -> String,
                                 warn: (String) -> Void) throws -> String? {
        if password == nil, let passwordFile, Self.readableByOthers(passwordFile) {
            warn("password file \(passwordFile) is readable by other users (chmod 600 it)")
        }
        if let password { return password }
        if let passwordFile {
            let text = try readFile(passwordFile)
            let line = text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
            guard !line.isEmpty else { throw ValidationError("password file \(passwordFile) is empty") }
            return line
        }
        if let env = environment["WEFT_PASSWORD"], !env.isEmpty { return env }
        return nil
    }
}

extension RouterOptions {
    /// Whether a file's mode lets its group or others read it.
    static func readableByOthers(_ path: String) -> Bool {
        var st = stat()
        guard stat(path, &st) == 0 else { return false }  // unreadable files fail later, with their own error
        return st.st_mode & 0o044 != 0
    }
}
