/// One address held by a container, with the subnet it was given in (for its prefix length).
public struct Allocation: Hashable, Sendable {
    public var address: UInt32
    public var subnet: Subnet

    public init(address: UInt32, subnet: Subnet) {
        self.address = address
        self.subnet = subnet
    }

    /// As the container gets it: `10.32.0.5/12`.
    public var cidr: String { subnet.cidr(address) }
}

extension Allocation {
    /// Parses `a.b.c.d/n` (any address inside its subnet).
    public init?(cidr: String) {
        let parts = cidr.split(separator: "/")
        guard parts.count == 2, let address = IPv4.parse(String(parts[0])), let prefix = Int(parts[1]),
              (1...32).contains(prefix),
              let subnet = Subnet(start: address & ~UInt32(0) << UInt32(32 - prefix), prefix: prefix) else { return nil }
        self.init(address: address, subnet: subnet)
    }
}
