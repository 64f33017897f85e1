public import CLinux
import Glibc

/// `struct mmsghdr`: one message of a `sendmmsg`/`recvmmsg` batch.
public typealias MultiMessageHeader = weft_mmsghdr

/// Linux socket options Swift's Glibc module does not name.
public enum LinuxSocketOption {
    /// `UDP_SEGMENT` (level `IPPROTO_UDP`): the segment size of a UDP GSO send.
    public static let udpSegment = WEFT_UDP_SEGMENT
    /// `UDP_GRO` (level `IPPROTO_UDP`): hand over runs of datagrams coalesced.
    public static let udpGRO = WEFT_UDP_GRO
    /// `PACKET_QDISC_BYPASS` (level `SOL_PACKET`): frames skip the interface's qdisc.
    public static let packetQdiscBypass = Int32(PACKET_QDISC_BYPASS)
}

/// `sendmmsg(2)`, EINTR retried: how many of the `count` messages went.
@inlinable
public func sendMessages(_ fd: Int32, _ headers: UnsafeMutablePointer<MultiMessageHeader>, count: Int,
                         _ attempted: @autoclosure () -> String) throws(SystemError) -> Int {
    Int(try syscall(attempted()) { sendmmsg(fd, headers, UInt32(count), 0) })
}

/// `recvmmsg(2)` with `flags`, EINTR retried: how many messages arrived.
@inlinable
public func receiveMessages(_ fd: Int32, _ headers: UnsafeMutablePointer<MultiMessageHeader>, count: Int, flags: Int32,
                            _ attempted: @autoclosure () -> String) throws(SystemError) -> Int {
    Int(try syscall(attempted()) { recvmmsg(fd, headers, UInt32(count), flags, nil) })
}

/// Moves the calling thread into the network namespace of the open namespace file `fd`
/// (`setns(2)`). Only for a thread that exists for that (conventions.md).
public func enterNetworkNamespace(_ fd: Int32) throws(SystemError) {
    try syscall("setns(CLONE_NEWNET)") { weft_enter_network_namespace(fd) }
}

/// Sets one ethtool value (an `ETHTOOL_S…` command) on an interface, through the socket `fd`
/// (whose network namespace decides which interface).
public func setEthtoolValue(_ fd: Int32, interface: String, command: UInt32, value: UInt32) throws(SystemError) {
    try syscall("ioctl(SIOCETHTOOL \(command)) on \(interface)") { weft_ethtool_set(fd, interface, command, value) }
}

/// `ETHTOOL_STXCSUM`: TX checksum offload on or off.
public let ethtoolSetTxChecksum = UInt32(ETHTOOL_STXCSUM)
