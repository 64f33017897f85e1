public import WeftTypes

/// The router's flags, parsed once (`RouterOptions.settings`): everything downstream reads
/// these typed values and never a flag's text again.
public struct RouterSettings: Sendable, Equatable {
    /// The embedded DNS's settings (absent with `--no-dns`).
    public struct DNS: Sendable, Equatable {
        /// The domain the server answers for, lower-cased.
        public var domain: DNSName
        public var ttl: UInt32
        /// The resolv.conf whose servers get the names outside the domain.
        public var resolvConf: String

        public init(domain: DNSName, ttl: UInt32, resolvConf: String) {
            self.domain = domain
            self.ttl = ttl
            self.resolvConf = resolvConf
        }
    }

    /// `--log-level`, in swift-log's names.
    public enum LogLevel: String, Sendable, Equatable {
        case trace, debug, info, notice, warning, error, critical
    }

    /// `--name`; nil: the one persisted in the state directory, or a new random one.
    public var name: PeerName?
    /// `--nickname`; nil: the host name.
    public var nickname: String?
    public var port: Int
    public var connLimit: Int
    public var discovery: Bool
    /// Nil: IPAM off (`--ipalloc-range ""`).
    public var ipamRange: Subnet?
    public var ipamMode: BootstrapMode
    /// Unless `--no-fastdp`.
    public var fastdp: Bool
    /// The overlay MTU (containers' `ethwe`).
    public var mtu: Int
    public var trustedSubnets: [Subnet]
    public var dns: DNS?
    public var stateDirectory: String
    public var logLevel: LogLevel
    /// The peers given at launch (host[:port]).
    public var peers: [String]

    public init(name: PeerName? = nil, nickname: String? = nil, port: Int = 6783, connLimit: Int = 200,
                discovery: Bool = true, ipamRange: Subnet? = Subnet("10.32.0.0/12"),
                ipamMode: BootstrapMode = .consensus(peers: 1), fastdp: Bool = true, mtu: Int = 1376,
                trustedSubnets: [Subnet] = [], dns: DNS? = DNS(domain: DNSName("weft.local.")!, ttl: 1, resolvConf: "/etc/resolv.conf"),
                stateDirectory: String = "/var/lib/weft", logLevel: LogLevel = .info, peers: [String] = []) {
        self.name = name
        self.nickname = nickname
        self.port = port
        self.connLimit = connLimit
        self.discovery = discovery
        self.ipamRange = ipamRange
        self.ipamMode = ipamMode
        self.fastdp = fastdp
        self.mtu = mtu
        self.trustedSubnets = trustedSubnets
        self.dns = dns
        self.stateDirectory = stateDirectory
        self.logLevel = logLevel
        self.peers = peers
    }
}
