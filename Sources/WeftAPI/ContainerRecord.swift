/// One attached container, as `GET /ps` gives it in JSON (with `Accept: application/json`;
/// the text form is one line per container: `ID MAC CIDR...`).
public struct ContainerRecord: Codable, Equatable, Sendable {
    public var id: String
    /// The namespace as given to attach: a name under /run/netns, a path, or a PID.
    public var netns: String
    public var hostname: String?
    /// More names of its addresses (CNI and Docker network aliases).
    public var aliases: [String]?
    public var mac: String
    public var cidrs: [String]
    /// Its interface inside the namespace (`ethwe` unless a runtime named it).
    public var interface: String?
    /// The host end of its veth pair, a port of the `weft` bridge.
    public var hostLink: String?
    /// The next hop of its default route (the bridge's overlay address), when it has one.
    public var gateway: String?
    /// The embedded DNS server's address and domain, when DNS is on: what the container's
    /// resolv.conf should say.
    public var dns: DNS?

    /// How a container reaches the embedded DNS.
    public struct DNS: Codable, Equatable, Sendable {
        public var nameserver: String
        /// The search domain, without its trailing dot (`weft.local`).
        public var domain: String

        public init(nameserver: String, domain: String) {
            self.nameserver = nameserver
            self.domain = domain
        }
    }

    public init(id: String, netns: String, hostname: String? = nil, aliases: [String]? = nil, mac: String, cidrs: [String],
                interface: String? = nil, hostLink: String? = nil, gateway: String? = nil, dns: DNS? = nil) {
        self.id = id
        self.netns = netns
        self.hostname = hostname
        self.aliases = aliases
        self.mac = mac
        self.cidrs = cidrs
        self.interface = interface
        self.hostLink = hostLink
        self.gateway = gateway
        self.dns = dns
    }
}

/// The body of a failed call when the client asked for JSON (`Accept: application/json`);
/// otherwise a failure is its `message` as one line of text.
public struct APIErrorBody: Codable, Equatable, Sendable {
    /// The one line a user can act on.
    public var message: String
    /// The HTTP status, repeated for clients that only see the body.
    public var status: Int

    public init(message: String, status: Int) {
        self.message = message
        self.status = status
    }
}
