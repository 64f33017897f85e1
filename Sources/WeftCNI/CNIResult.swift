import FoundationEssentials

/// A CNI result (spec 1.0 "Success"), written in the configuration's version: before 1.0.0
/// each `ips[]` carries `"version": "4"`.
public struct CNIResult: Codable, Equatable, Sendable {
    public var cniVersion: String
    public var interfaces: [Interface]?
    public var ips: [IPConfig]?
    public var routes: [Route]?
    public var dns: DNS?

    public struct Interface: Codable, Equatable, Sendable {
        public var name: String
        public var mac: String?
        /// The namespace path for the container's own interface; absent for host ones.
        public var sandbox: String?

        public init(name: String, mac: String? = nil, sandbox: String? = nil) {
            self.name = name
            self.mac = mac
            self.sandbox = sandbox
        }
    }

    public struct IPConfig: Codable, Equatable, Sendable {
        /// "4" before spec 1.0.0; absent from 1.0.0 on.
        public var version: String?
        /// `a.b.c.d/n`.
        public var address: String
        public var gateway: String?
        /// Index into `interfaces`.
        public var interface: Int?

        public init(version: String? = nil, address: String, gateway: String? = nil, interface: Int? = nil) {
            self.version = version
            self.address = address
            self.gateway = gateway
            self.interface = interface
        }
    }

    public struct Route: Codable, Equatable, Sendable {
        public var dst: String
        public var gw: String?

        public init(dst: String, gw: String? = nil) {
            self.dst = dst
            self.gw = gw
        }
    }

    public struct DNS: Codable, Equatable, Sendable {
        public var nameservers: [String]?
        public var domain: String?
        public var search: [String]?
        public var options: [String]?

        public init(nameservers: [String]? = nil, domain: String? = nil, search: [String]? = nil) {
            self.nameservers = nameservers
            self.domain = domain
            self.search = search
        }
    }

    public init(cniVersion: String, interfaces: [Interface]? = nil, ips: [IPConfig]? = nil, routes: [Route]? = nil,
                dns: DNS? = nil) {
        self.cniVersion = cniVersion
        self.interfaces = interfaces
        self.ips = ips
        self.routes = routes
        self.dns = dns
    }

    /// The same result in `version`'s format.
    public func converted(to version: String) -> CNIResult {
        var r = self
        r.cniVersion = version
        r.ips = ips?.map { var ip = $0; ip.version = CNIVersion.isLegacy(version) ? "4" : nil; return ip }
        return r
    }

    /// The JSON a runtime reads.
    public func encoded() -> [UInt8] { CNIJSON.encode(self) }
}

/// One encoder for everything the plugin prints: sorted keys, no escaped slashes.
enum CNIJSON {
    static func encode<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // These types have only strings, numbers, arrays and optionals: encoding cannot fail.
        return (try? Array(encoder.encode(value))) ?? Array("{}".utf8)
    }
}
