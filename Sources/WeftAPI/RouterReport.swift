/// The JSON of `GET /report` (and `weft report`, `weft status … --json`): the contract the
/// router encodes and the CLI and plugins decode. Keys are documented in docs/api.md: add keys,
/// never rename them.
public struct RouterReport: Codable, Equatable, Sendable {
    public struct Router: Codable, Equatable, Sendable {
        public var name: String
        public var nickname: String
        public var uid: String
        public var version: UInt64
        public var `protocol`: String
        public var protocolMinVersion: UInt8
        public var protocolMaxVersion: UInt8
        public var encryption: Bool
        public var peerDiscovery: Bool
        public var connLimit: Int
        public var port: Int

        public init(name: String, nickname: String, uid: String, version: UInt64, protocol: String,
                    protocolMinVersion: UInt8, protocolMaxVersion: UInt8, encryption: Bool, peerDiscovery: Bool,
                    connLimit: Int, port: Int) {
            self.name = name
            self.nickname = nickname
            self.uid = uid
            self.version = version
            self.`protocol` = `protocol`
            self.protocolMinVersion = protocolMinVersion
            self.protocolMaxVersion = protocolMaxVersion
            self.encryption = encryption
            self.peerDiscovery = peerDiscovery
            self.connLimit = connLimit
            self.port = port
        }
    }

    public struct PeerConnection: Codable, Equatable, Sendable {
        public var name: String
        public var nickname: String?
        public var address: String
        public var outbound: Bool
        public var established: Bool

        public init(name: String, nickname: String? = nil, address: String, outbound: Bool, established: Bool) {
            self.name = name
            self.nickname = nickname
            self.address = address
            self.outbound = outbound
            self.established = established
        }
    }

    public struct Peer: Codable, Equatable, Sendable {
        public var name: String
        public var nickname: String
        public var uid: String
        public var version: UInt64
        public var connections: [PeerConnection]

        public init(name: String, nickname: String, uid: String, version: UInt64, connections: [PeerConnection]) {
            self.name = name
            self.nickname = nickname
            self.uid = uid
            self.version = version
            self.connections = connections
        }
    }

    public struct Connection: Codable, Equatable, Sendable {
        public var peer: String?
        public var nickname: String?
        public var address: String
        public var outbound: Bool
        public var state: String
        public var datapath: String
        /// On the sleeve: why not the fast path.
        public var datapathReason: String?
        /// Whether the direct UDP path to this peer works (else frames go through a relay).
        public var direct: Bool?
        /// The largest datagram the underlay carries to this peer, as probing found it.
        public var pathMTU: Int?
        public var encrypted: Bool
        public var info: String?

        public init(peer: String? = nil, nickname: String? = nil, address: String, outbound: Bool, state: String,
                    datapath: String, datapathReason: String? = nil, direct: Bool? = nil, pathMTU: Int? = nil,
                    encrypted: Bool, info: String? = nil) {
            self.peer = peer
            self.nickname = nickname
            self.address = address
            self.outbound = outbound
            self.state = state
            self.datapath = datapath
            self.datapathReason = datapathReason
            self.direct = direct
            self.pathMTU = pathMTU
            self.encrypted = encrypted
            self.info = info
        }
    }

    public struct Target: Codable, Equatable, Sendable {
        public var address: String
        public var kind: String
        public var state: String
        public var peer: String?
        public var attempts: Int
        public var lastError: String?

        public init(address: String, kind: String, state: String, peer: String? = nil, attempts: Int,
                    lastError: String? = nil) {
            self.address = address
            self.kind = kind
            self.state = state
            self.peer = peer
            self.attempts = attempts
            self.lastError = lastError
        }
    }

    public struct Routes: Codable, Equatable, Sendable {
        public var unicast: [String: String]

        public init(unicast: [String: String]) {
            self.unicast = unicast
        }
    }

    /// The `ipam` key: the range, how it is divided, and what this router handed out.
    public struct IPAM: Codable, Equatable, Sendable {
        public struct Owner: Codable, Equatable, Sendable {
            public var name: String
            public var nickname: String?
            public var owned: UInt64
            public var free: UInt64
            public var reachable: Bool

            public init(name: String, nickname: String? = nil, owned: UInt64, free: UInt64, reachable: Bool) {
                self.name = name
                self.nickname = nickname
                self.owned = owned
                self.free = free
                self.reachable = reachable
            }
        }

        public struct Conflict: Codable, Equatable, Sendable {
            public var peer: String
            public var reason: String

            public init(peer: String, reason: String) {
                self.peer = peer
                self.reason = reason
            }
        }

        public var range: String
        public var mode: String
        public var ready: Bool
        public var state: String
        public var allocated: Int
        public var seeds: [String]
        public var peers: [Owner]
        public var conflicts: [Conflict]

        public init(range: String, mode: String, ready: Bool, state: String, allocated: Int, seeds: [String],
                    peers: [Owner], conflicts: [Conflict]) {
            self.range = range
            self.mode = mode
            self.ready = ready
            self.state = state
            self.allocated = allocated
            self.seeds = seeds
            self.peers = peers
            self.conflicts = conflicts
        }
    }

    /// The `dns` key: where the server answers, and every live record.
    public struct DNS: Codable, Equatable, Sendable {
        public struct Entry: Codable, Equatable, Sendable {
            public var hostname: String
            public var address: String
            public var origin: String
            public var containerID: String
            public var version: UInt64

            public init(hostname: String, address: String, origin: String, containerID: String, version: UInt64) {
                self.hostname = hostname
                self.address = address
                self.origin = origin
                self.containerID = containerID
                self.version = version
            }
        }

        public var domain: String
        public var address: String
        public var ttl: UInt32
        public var upstream: [String]
        public var entries: [Entry]

        public init(domain: String, address: String, ttl: UInt32, upstream: [String], entries: [Entry]) {
            self.domain = domain
            self.address = address
            self.ttl = ttl
            self.upstream = upstream
            self.entries = entries
        }
    }

    public var version: String
    public var router: Router
    public var peers: [Peer]
    public var connections: [Connection]
    public var targets: [Target]
    public var routes: Routes
    /// Absent when IPAM is off.
    public var ipam: IPAM?
    /// Absent when DNS is off.
    public var dns: DNS?

    public init(version: String, router: Router, peers: [Peer], connections: [Connection], targets: [Target],
                routes: Routes, ipam: IPAM? = nil, dns: DNS? = nil) {
        self.version = version
        self.router = router
        self.peers = peers
        self.connections = connections
        self.targets = targets
        self.routes = routes
        self.ipam = ipam
        self.dns = dns
    }
}
