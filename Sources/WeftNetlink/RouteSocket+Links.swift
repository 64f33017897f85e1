import CMnl
import WeftSystem
import Glibc

/// Links and addresses: what the bridge, the veth pairs and `attach` need.
extension RouteSocket {
    /// Creates a bridge; returns false when a link of that name already exists.
    @discardableResult
    public func createBridge(_ name: String, mtu: Int) throws(NetlinkError) -> Bool {
        try createLink(name, kind: "bridge", mtu: mtu, what: "bridge") { _ in }
    }

    /// Creates a veth pair `name` ↔ `peer`. The peer end may get its own MTU and MAC and be
    /// created right inside another network namespace (an open namespace file descriptor).
    /// Returns false when `name` already exists.
    @discardableResult
    public func createVeth(_ name: String, peer: String, mtu: Int, peerMTU: Int? = nil, peerMAC: [UInt8]? = nil,
                           peerNamespace: Int32? = nil) throws(NetlinkError) -> Bool {
        try createLink(name, kind: "veth", mtu: mtu, what: "veth") { nlh in
            let peerInfo = mnl_attr_nest_start(nlh, UInt16(VETH_INFO_PEER))
            Self.putLinkHeader(nlh, index: 0)
            mnl_attr_put_strz(nlh, UInt16(IFLA_IFNAME), peer)
            mnl_attr_put_u32(nlh, UInt16(IFLA_MTU), UInt32(peerMTU ?? mtu))
            if let peerMAC { mnl_attr_put(nlh, UInt16(IFLA_ADDRESS), peerMAC.count, peerMAC) }
            if let peerNamespace { mnl_attr_put_u32(nlh, UInt16(IFLA_NET_NS_FD), UInt32(bitPattern: peerNamespace)) }
            mnl_attr_nest_end(nlh, peerInfo)
        }
    }

    /// Changes a link: up or down, MTU, MAC address, bridge port of `master`.
    public func setLink(_ name: String, up: Bool? = nil, mtu: Int? = nil, mac: [UInt8]? = nil,
                        master: String? = nil) throws(NetlinkError) {
        guard let index = try linkIndex(named: name) else { throw NetlinkError(operation: "find link \(name)", errno: ENODEV) }
        let masterIndex: Int32?
        if let master {
            guard let m = try linkIndex(named: master) else { throw NetlinkError(operation: "find link \(master)", errno: ENODEV) }
            masterIndex = m
        } else {
            masterIndex = nil
        }
        let rc = execute(RTM_NEWLINK, flags: 0) { nlh in
            let ifm = Self.putLinkHeader(nlh, index: index)
            if let up {
                ifm.pointee.ifi_change = UInt32(IFF_UP)
                ifm.pointee.ifi_flags = up ? UInt32(IFF_UP) : 0
            }
            if let mtu { mnl_attr_put_u32(nlh, UInt16(IFLA_MTU), UInt32(mtu)) }
            if let mac { mnl_attr_put(nlh, UInt16(IFLA_ADDRESS), mac.count, mac) }
            if let masterIndex { mnl_attr_put_u32(nlh, UInt16(IFLA_MASTER), UInt32(bitPattern: masterIndex)) }
        }
        guard rc == 0 else { throw NetlinkError(operation: "configure link \(name)", errno: rc) }
    }

    /// Deletes a link (a veth pair goes with either end); returns false when there was none.
    @discardableResult
    public func deleteLink(_ name: String) throws(NetlinkError) -> Bool {
        guard let index = try linkIndex(named: name) else { return false }
        let rc = execute(RTM_DELLINK, flags: 0) { nlh in Self.putLinkHeader(nlh, index: index) }
        if rc == ENODEV { return false }
        guard rc == 0 else { throw NetlinkError(operation: "delete link \(name)", errno: rc) }
        return true
    }

    /// Adds `address/prefix` (IPv4, host order) to a link; an address already there is fine.
    public func addAddress(_ address: UInt32, prefix: Int, to name: String) throws(NetlinkError) {
        try changeAddress(RTM_NEWADDR, address, prefix: prefix, link: name, flags: NLM_F_CREATE | NLM_F_REPLACE)
    }

    /// Removes `address/prefix` from a link; returns false when it was not there.
    @discardableResult
    public func removeAddress(_ address: UInt32, prefix: Int, from name: String) throws(NetlinkError) -> Bool {
        do { try changeAddress(RTM_DELADDR, address, prefix: prefix, link: name, flags: 0) } catch {
            if error.errno == EADDRNOTAVAIL || error.errno == ENODEV { return false }
            throw error
        }
        return true
    }

    /// Turns offload features of a link of this socket's namespace on or off by their ethtool
    /// names (`setEthtoolFeatures`: `decide` answers on, off or nil for each name).
    public func setOffloads(_ name: String, _ decide: (String) -> Bool?) throws(NetlinkError) {
        do { try setEthtoolFeatures(ioctlSocket, interface: name, decide) } catch {
            throw NetlinkError(operation: "set offloads of \(name)", errno: error.errno)
        }
    }

    /// Sets the largest segmentation-offload super-frame a link takes (`IFLA_GSO_MAX_SIZE`, the
    /// frame's bytes from its Ethernet header): a larger one is cut into MTU-sized frames before
    /// the link sends it.
    public func setGSOMaxSize(_ name: String, _ size: Int) throws(NetlinkError) {
        guard let index = try linkIndex(named: name) else { throw NetlinkError(operation: "find link \(name)", errno: ENODEV) }
        let rc = execute(RTM_NEWLINK, flags: 0) { nlh in
            Self.putLinkHeader(nlh, index: index)
            mnl_attr_put_u32(nlh, UInt16(IFLA_GSO_MAX_SIZE), UInt32(size))
        }
        guard rc == 0 else { throw NetlinkError(operation: "set gso_max_size of \(name)", errno: rc) }
    }

    // MARK: internals

    /// Creates a link of `kind`; `data` fills in its IFLA_INFO_DATA. False when a link of that
    /// name already exists.
    private func createLink(_ name: String, kind: String, mtu: Int, what: String,
                            data: (UnsafeMutablePointer<nlmsghdr>) -> Void) throws(NetlinkError) -> Bool {
        let rc = execute(RTM_NEWLINK, flags: NLM_F_CREATE | NLM_F_EXCL) { nlh in
            Self.putLinkHeader(nlh, index: 0)
            mnl_attr_put_strz(nlh, UInt16(IFLA_IFNAME), name)
            mnl_attr_put_u32(nlh, UInt16(IFLA_MTU), UInt32(mtu))
            let info = mnl_attr_nest_start(nlh, UInt16(IFLA_LINKINFO))
            mnl_attr_put_strz(nlh, UInt16(IFLA_INFO_KIND), kind)
            let nest = mnl_attr_nest_start(nlh, UInt16(IFLA_INFO_DATA))
            data(nlh)
            mnl_attr_nest_end(nlh, nest)
            mnl_attr_nest_end(nlh, info)
        }
        if rc == EEXIST { return false }
        guard rc == 0 else { throw NetlinkError(operation: "create \(what) \(name)", errno: rc) }
        return true
    }

    private func changeAddress(_ type: Int, _ address: UInt32, prefix: Int, link name: String,
                               flags: Int32) throws(NetlinkError) {
        guard let index = try linkIndex(named: name) else { throw NetlinkError(operation: "find link \(name)", errno: ENODEV) }
        var be = address.bigEndian
        let rc = execute(type, flags: flags) { nlh in
            let ifa = mnl_nlmsg_put_extra_header(nlh, MemoryLayout<ifaddrmsg>.size)!.assumingMemoryBound(to: ifaddrmsg.self)
            ifa.pointee.ifa_family = UInt8(AF_INET)
            ifa.pointee.ifa_prefixlen = UInt8(prefix)
            ifa.pointee.ifa_index = UInt32(bitPattern: index)
            ifa.pointee.ifa_scope = UInt8(RT_SCOPE_UNIVERSE.rawValue)
            mnl_attr_put(nlh, UInt16(IFA_LOCAL), 4, &be)
            mnl_attr_put(nlh, UInt16(IFA_ADDRESS), 4, &be)
        }
        guard rc == 0 else {
            let verb = type == RTM_NEWADDR ? "add" : "remove"
            throw NetlinkError(operation: "\(verb) address on \(name)", errno: rc)
        }
    }

    @discardableResult
    static func putLinkHeader(_ nlh: UnsafeMutablePointer<nlmsghdr>, index: Int32) -> UnsafeMutablePointer<ifinfomsg> {
        let ifm = mnl_nlmsg_put_extra_header(nlh, MemoryLayout<ifinfomsg>.size)!.assumingMemoryBound(to: ifinfomsg.self)
        ifm.pointee.ifi_family = UInt8(AF_UNSPEC)
        ifm.pointee.ifi_index = index
        return ifm
    }
}

/// The VXLAN device of the fast path.
extension RouteSocket {
    /// Creates a VXLAN device: network identifier `vni`, UDP `port`, no learning (the router
    /// programs its forwarding table). Returns false when a link of that name already exists.
    @discardableResult
    public func createVXLAN(_ name: String, vni: UInt32, port: UInt16, mtu: Int) throws(NetlinkError) -> Bool {
        try createLink(name, kind: "vxlan", mtu: mtu, what: "VXLAN device") { nlh in
            mnl_attr_put_u32(nlh, UInt16(IFLA_VXLAN_ID), vni)
            mnl_attr_put_u16(nlh, UInt16(IFLA_VXLAN_PORT), port.bigEndian)
            mnl_attr_put_u8(nlh, UInt16(IFLA_VXLAN_LEARNING), 0)
        }
    }

    /// Turns MAC learning of a bridge port on or off (`bridge link set dev NAME learning off`).
    public func setBridgePort(_ name: String, learning: Bool) throws(NetlinkError) {
        guard let index = try linkIndex(named: name) else { throw NetlinkError(operation: "find link \(name)", errno: ENODEV) }
        let rc = execute(RTM_NEWLINK, flags: 0) { nlh in
            Self.putLinkHeader(nlh, index: index)
            let info = mnl_attr_nest_start(nlh, UInt16(IFLA_LINKINFO))
            mnl_attr_put_strz(nlh, UInt16(IFLA_INFO_SLAVE_KIND), "bridge")
            let data = mnl_attr_nest_start(nlh, UInt16(IFLA_INFO_SLAVE_DATA))
            mnl_attr_put_u8(nlh, UInt16(IFLA_BRPORT_LEARNING), learning ? 1 : 0)
            mnl_attr_nest_end(nlh, data)
            mnl_attr_nest_end(nlh, info)
        }
        guard rc == 0 else { throw NetlinkError(operation: "set learning on bridge port \(name)", errno: rc) }
    }
}
