import CMnl
import Glibc

/// An rtnetlink socket opened with libmnl. One owner uses it at a time: the `mnl_socket` handle
/// is a C pointer that is only touched from the methods of this class, which the caller must
/// not call concurrently (that is what makes the unchecked Sendable safe).
public final class RouteSocket: @unchecked Sendable {
    private let socket: OpaquePointer
    private let portID: UInt32
    private var sequence: UInt32 = 1
    private var buffer: [UInt8]
    /// An AF_INET socket of the same namespace, for the ioctls netlink does not cover.
    let ioctlSocket: Int32

    /// Opens and binds a NETLINK_ROUTE socket in the calling thread's network namespace.
    public init() throws(NetlinkError) {
        guard let s = mnl_socket_open(NETLINK_ROUTE) else {
            throw NetlinkError(operation: "open rtnetlink socket", errno: errno)
        }
        guard mnl_socket_bind(s, 0, pid_t(MNL_SOCKET_AUTOPID)) >= 0 else {
            let e = errno
            mnl_socket_close(s)
            throw NetlinkError(operation: "bind rtnetlink socket", errno: e)
        }
        let fd = Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            let e = errno
            mnl_socket_close(s)
            throw NetlinkError(operation: "open control socket", errno: e)
        }
        socket = s
        ioctlSocket = fd
        portID = mnl_socket_get_portid(s)
        buffer = [UInt8](repeating: 0, count: weft_mnl_socket_buffer_size())
    }

    deinit {
        mnl_socket_close(socket)
        close(ioctlSocket)
    }

    /// Sends one request that `build` fills in (after the netlink header), asks for an
    /// acknowledgement and returns the kernel's errno for it (0: done).
    func execute(_ type: Int, flags: Int32, _ build: (UnsafeMutablePointer<nlmsghdr>) -> Void) -> Int32 {
        let seq = nextSequence()
        return buffer.withUnsafeMutableBytes { buf -> Int32 in
            let nlh = mnl_nlmsg_put_header(buf.baseAddress)!
            nlh.pointee.nlmsg_type = UInt16(type)
            nlh.pointee.nlmsg_flags = UInt16(NLM_F_REQUEST | NLM_F_ACK | flags)
            nlh.pointee.nlmsg_seq = seq
            build(nlh)
            guard mnl_socket_sendto(socket, nlh, Int(nlh.pointee.nlmsg_len)) >= 0 else { return errno }
            while true {
                let n = mnl_socket_recvfrom(socket, buf.baseAddress, buf.count)
                guard n >= 0 else { return errno }
                let rc = mnl_cb_run(buf.baseAddress, n, seq, portID, nil, nil)
                if rc < 0 { return errno }
                if rc == MNL_CB_STOP { return 0 }
            }
        }
    }

    /// The index of the link called `name`, or nil when there is none.
    public func linkIndex(named name: String) throws(NetlinkError) -> Int32? {
        let seq = nextSequence()
        var index: Int32 = 0
        let result: Int32 = buffer.withUnsafeMutableBytes { buf in
            let nlh = mnl_nlmsg_put_header(buf.baseAddress)!
            nlh.pointee.nlmsg_type = UInt16(RTM_GETLINK)
            nlh.pointee.nlmsg_flags = UInt16(NLM_F_REQUEST)
            nlh.pointee.nlmsg_seq = seq
            let ifm = mnl_nlmsg_put_extra_header(nlh, MemoryLayout<ifinfomsg>.size)!
                .assumingMemoryBound(to: ifinfomsg.self)
            ifm.pointee.ifi_family = UInt8(AF_UNSPEC)
            mnl_attr_put_strz(nlh, UInt16(IFLA_IFNAME), name)
            guard mnl_socket_sendto(socket, nlh, Int(nlh.pointee.nlmsg_len)) >= 0 else { return -1 }
            let n = mnl_socket_recvfrom(socket, buf.baseAddress, buf.count)
            guard n >= 0 else { return -1 }
            return withUnsafeMutablePointer(to: &index) { out in
                mnl_cb_run(buf.baseAddress, n, seq, portID, { header, data in
                    guard let header, let data else { return MNL_CB_ERROR }
                    let info = mnl_nlmsg_get_payload(header)!.assumingMemoryBound(to: ifinfomsg.self)
                    data.assumingMemoryBound(to: Int32.self).pointee = info.pointee.ifi_index
                    return MNL_CB_OK
                }, out)
            }
        }
        if result < 0 {
            if errno == ENODEV { return nil }
            throw NetlinkError(operation: "look up link \(name)", errno: errno)
        }
        return index
    }

    private func nextSequence() -> UInt32 {
        sequence &+= 1
        return sequence
    }
}
