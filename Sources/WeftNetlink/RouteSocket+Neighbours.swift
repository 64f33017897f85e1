import CMnl
import Glibc

/// Host routes, neighbour (ARP) entries and bridge/VXLAN forwarding entries: what the DNS
/// address and the fast path program.
extension RouteSocket {
    /// The kernel's main routing table (RT_TABLE_MAIN).
    public static let mainTable: UInt8 = 254

    /// Adds (or replaces) the on-link route `address/prefix dev link` in `table` (main by default).
    public func addRoute(_ address: UInt32, prefix: Int, link name: String, table: UInt8 = RouteSocket.mainTable) throws(NetlinkError) {
        try changeRoute(RTM_NEWROUTE, address, prefix: prefix, link: name, table: table, flags: NLM_F_CREATE | NLM_F_REPLACE)
    }

    /// Adds (or replaces) the default route `default via gateway dev link` in the main table.
    public func addDefaultRoute(via gateway: UInt32, link name: String) throws(NetlinkError) {
        try changeRoute(RTM_NEWROUTE, 0, prefix: 0, link: name, table: Self.mainTable, flags: NLM_F_CREATE | NLM_F_REPLACE,
                        gateway: gateway)
    }

    /// Removes the route `address/prefix dev link` from `table`; false when it was not there.
    @discardableResult
    public func removeRoute(_ address: UInt32, prefix: Int, link name: String, table: UInt8 = RouteSocket.mainTable) throws(NetlinkError) -> Bool {
        do { try changeRoute(RTM_DELROUTE, address, prefix: prefix, link: name, table: table, flags: 0) } catch {
            if error.errno == ESRCH || error.errno == ENODEV { return false }
            throw error
        }
        return true
    }

    /// Adds (or replaces) a permanent IPv4 neighbour entry: `address` is at `mac` on `link`, so
    /// the kernel never asks with ARP.
    public func addNeighbour(_ address: UInt32, mac: [UInt8], link name: String) throws(NetlinkError) {
        try changeNeighbour(RTM_NEWNEIGH, family: AF_INET, link: name, state: NUD_PERMANENT, flags: 0,
                            mac: mac, destination: address, what: "neighbour")
    }

    /// Removes an IPv4 neighbour entry; false when there was none.
    @discardableResult
    public func removeNeighbour(_ address: UInt32, link name: String) throws(NetlinkError) -> Bool {
        try removing { () throws(NetlinkError) in
            try changeNeighbour(RTM_DELNEIGH, family: AF_INET, link: name, state: 0, flags: 0, mac: nil,
                                destination: address, what: "neighbour")
        }
    }

    /// Adds (or replaces) a forwarding entry in a VXLAN device's own table: frames for `mac`
    /// go to the remote `destination`.
    public func addTunnelEntry(_ mac: [UInt8], destination: UInt32, device name: String) throws(NetlinkError) {
        try changeNeighbour(RTM_NEWNEIGH, family: AF_BRIDGE, link: name, state: NUD_PERMANENT | NUD_NOARP,
                            flags: NTF_SELF, mac: mac, destination: destination, what: "VXLAN forwarding entry")
    }

    /// Removes a VXLAN forwarding entry; false when there was none.
    @discardableResult
    public func removeTunnelEntry(_ mac: [UInt8], destination: UInt32, device name: String) throws(NetlinkError) -> Bool {
        try removing { () throws(NetlinkError) in
            try changeNeighbour(RTM_DELNEIGH, family: AF_BRIDGE, link: name, state: 0, flags: NTF_SELF, mac: mac,
                                destination: destination, what: "VXLAN forwarding entry")
        }
    }

    /// Pins `mac` to the bridge port `port` with a static, sticky entry in the bridge's table:
    /// learning from frames that arrive elsewhere (the sleeve) cannot move it.
    public func addBridgeEntry(_ mac: [UInt8], port name: String) throws(NetlinkError) {
        try changeNeighbour(RTM_NEWNEIGH, family: AF_BRIDGE, link: name, state: NUD_NOARP, flags: NTF_MASTER | NTF_STICKY,
                            mac: mac, destination: nil, what: "bridge forwarding entry")
    }

    /// Removes a bridge table entry for `mac` on `port`; false when there was none.
    @discardableResult
    public func removeBridgeEntry(_ mac: [UInt8], port name: String) throws(NetlinkError) -> Bool {
        try removing { () throws(NetlinkError) in
            try changeNeighbour(RTM_DELNEIGH, family: AF_BRIDGE, link: name, state: 0, flags: NTF_MASTER, mac: mac,
                                destination: nil, what: "bridge forwarding entry")
        }
    }

    /// Adds the policy rule "packets from `source` look up `table`" at `priority`, unless it
    /// is there already.
    public func addSourceRule(_ source: UInt32, table: UInt8, priority: UInt32) throws(NetlinkError) {
        try changeRule(RTM_NEWRULE, source, table: table, priority: priority, flags: NLM_F_CREATE | NLM_F_EXCL)
    }

    /// Removes that rule; false when it was not there.
    @discardableResult
    public func removeSourceRule(_ source: UInt32, table: UInt8, priority: UInt32) throws(NetlinkError) -> Bool {
        try removing { () throws(NetlinkError) in try changeRule(RTM_DELRULE, source, table: table, priority: priority, flags: 0) }
    }

    // MARK: internals

    private func changeRule(_ type: Int, _ source: UInt32, table: UInt8, priority: UInt32, flags: Int32) throws(NetlinkError) {
        var be = source.bigEndian
        let rc = execute(type, flags: flags) { nlh in
            let frh = mnl_nlmsg_put_extra_header(nlh, MemoryLayout<fib_rule_hdr>.size)!.assumingMemoryBound(to: fib_rule_hdr.self)
            frh.pointee.family = UInt8(AF_INET)
            frh.pointee.src_len = 32
            frh.pointee.table = table
            frh.pointee.action = UInt8(FR_ACT_TO_TBL)
            mnl_attr_put(nlh, UInt16(FRA_SRC), 4, &be)
            mnl_attr_put_u32(nlh, UInt16(FRA_PRIORITY), priority)
        }
        if rc == EEXIST, type == RTM_NEWRULE { return }
        guard rc == 0 else { throw NetlinkError(operation: "\(type == RTM_NEWRULE ? "add" : "remove") policy rule", errno: rc) }
    }

    private func removing(_ body: () throws(NetlinkError) -> Void) throws(NetlinkError) -> Bool {
        do { try body() } catch {
            if error.errno == ENOENT || error.errno == ENODEV { return false }
            throw error
        }
        return true
    }

    /// An on-link route, or through `gateway` (universe scope) when one is given.
    private func changeRoute(_ type: Int, _ address: UInt32, prefix: Int, link name: String, table: UInt8,
                             flags: Int32, gateway: UInt32? = nil) throws(NetlinkError) {
        guard let index = try linkIndex(named: name) else { throw NetlinkError(operation: "find link \(name)", errno: ENODEV) }
        var be = address.bigEndian
        var via = (gateway ?? 0).bigEndian
        let rc = execute(type, flags: flags) { nlh in
            let rtm = mnl_nlmsg_put_extra_header(nlh, MemoryLayout<rtmsg>.size)!.assumingMemoryBound(to: rtmsg.self)
            rtm.pointee.rtm_family = UInt8(AF_INET)
            rtm.pointee.rtm_dst_len = UInt8(prefix)
            rtm.pointee.rtm_table = table
            rtm.pointee.rtm_protocol = UInt8(RTPROT_STATIC)
            rtm.pointee.rtm_scope = UInt8(gateway == nil ? RT_SCOPE_LINK.rawValue : RT_SCOPE_UNIVERSE.rawValue)
            rtm.pointee.rtm_type = UInt8(RTN_UNICAST)
            if prefix > 0 { mnl_attr_put(nlh, UInt16(RTA_DST.rawValue), 4, &be) }
            if gateway != nil { mnl_attr_put(nlh, UInt16(RTA_GATEWAY.rawValue), 4, &via) }
            mnl_attr_put_u32(nlh, UInt16(RTA_OIF.rawValue), UInt32(bitPattern: index))
        }
        guard rc == 0 else {
            throw NetlinkError(operation: "\(type == RTM_NEWROUTE ? "add" : "remove") route via \(name)", errno: rc)
        }
    }

    private func changeNeighbour(_ type: Int, family: Int32, link name: String, state: Int32, flags: Int32, mac: [UInt8]?,
                                 destination: UInt32?, what: String) throws(NetlinkError) {
        guard let index = try linkIndex(named: name) else { throw NetlinkError(operation: "find link \(name)", errno: ENODEV) }
        var be = destination?.bigEndian ?? 0
        let create = type == RTM_NEWNEIGH ? NLM_F_CREATE | NLM_F_REPLACE : 0
        let rc = execute(type, flags: create) { nlh in
            let ndm = mnl_nlmsg_put_extra_header(nlh, MemoryLayout<ndmsg>.size)!.assumingMemoryBound(to: ndmsg.self)
            ndm.pointee.ndm_family = UInt8(family)
            ndm.pointee.ndm_ifindex = index
            ndm.pointee.ndm_state = UInt16(state)
            ndm.pointee.ndm_flags = UInt8(flags)
            if let mac { mnl_attr_put(nlh, UInt16(NDA_LLADDR), mac.count, mac) }
            if destination != nil { mnl_attr_put(nlh, UInt16(NDA_DST), 4, &be) }
        }
        guard rc == 0 else {
            throw NetlinkError(operation: "\(type == RTM_NEWNEIGH ? "add" : "remove") \(what) on \(name)", errno: rc)
        }
    }
}
