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
    /// `PACKET_VNET_HDR` (level `SOL_PACKET`): every frame sent is preceded by a virtio-net
    /// header (checksum and segmentation offload of the frame).
    public static let packetVnetHeader = WEFT_PACKET_VNET_HDR
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

/// A packet socket for sending frames out of `interface` only, each preceded by a virtio-net
/// header (`PACKET_VNET_HDR`), past the queueing discipline. Bound with protocol 0, it
/// receives nothing.
public func openInjectionSocket(interface: String) throws(SystemError) -> Int32 {
    let index = if_nametoindex(interface)
    guard index > 0 else { throw SystemError("find \(interface)", errno: ENODEV) }
    let s = try syscall("packet socket") { socket(AF_PACKET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
    do {
        try setSocketOption(s, level: SOL_PACKET, name: LinuxSocketOption.packetVnetHeader, value: Int32(1),
                            "setsockopt(PACKET_VNET_HDR)")
        try setSocketOption(s, level: SOL_PACKET, name: LinuxSocketOption.packetQdiscBypass, value: Int32(1),
                            "setsockopt(PACKET_QDISC_BYPASS)")
        var address = sockaddr_ll()
        address.sll_family = UInt16(AF_PACKET)
        address.sll_ifindex = Int32(index)
        _ = try syscall("bind a packet socket to \(interface)") {
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_ll>.size)) }
            }
        }
    } catch {
        close(s)
        throw error
    }
    return s
}

/// Turns offload features of an interface on or off by their ethtool names (`ethtool -k`:
/// `tx-tcp-segmentation`, ...), through the socket `fd`. `decide` is asked for each feature the
/// kernel names and answers on, off, or nil (leave it); features it answers for that the kernel
/// cannot change are left as they are (ETHTOOL_SFEATURES reports, does not fail, for those).
public func setEthtoolFeatures(_ fd: Int32, interface: String, _ decide: (String) -> Bool?) throws(SystemError) {
    // How many features the kernel names (ETHTOOL_GSSET_INFO: cmd, reserved, sset_mask, data[1]).
    let info = UnsafeMutableRawPointer.allocate(byteCount: 24, alignment: 8)
    defer { info.deallocate() }
    info.initializeMemory(as: UInt8.self, repeating: 0, count: 24)
    info.storeBytes(of: UInt32(ETHTOOL_GSSET_INFO), as: UInt32.self)
    info.storeBytes(of: UInt64(1) << UInt64(ETH_SS_FEATURES.rawValue), toByteOffset: 8, as: UInt64.self)
    _ = try syscall("ioctl(ETHTOOL_GSSET_INFO) on \(interface)") { weft_ethtool(fd, interface, info) }
    let count = info.load(fromByteOffset: 8, as: UInt64.self) == 0 ? 0 : Int(info.load(fromByteOffset: 16, as: UInt32.self))
    guard count > 0 else { return }
    // Their names (ETHTOOL_GSTRINGS: cmd, string_set, len, then len × 32 bytes).
    let nameLength = Int(ETH_GSTRING_LEN)
    let strings = UnsafeMutableRawPointer.allocate(byteCount: 12 + count * nameLength, alignment: 8)
    defer { strings.deallocate() }
    strings.initializeMemory(as: UInt8.self, repeating: 0, count: 12 + count * nameLength)
    strings.storeBytes(of: UInt32(ETHTOOL_GSTRINGS), as: UInt32.self)
    strings.storeBytes(of: UInt32(ETH_SS_FEATURES.rawValue), toByteOffset: 4, as: UInt32.self)
    strings.storeBytes(of: UInt32(count), toByteOffset: 8, as: UInt32.self)
    _ = try syscall("ioctl(ETHTOOL_GSTRINGS) on \(interface)") { weft_ethtool(fd, interface, strings) }
    // The change (ETHTOOL_SFEATURES: cmd, size, then size × {valid, requested}).
    let blocks = (count + 31) / 32
    let set = UnsafeMutableRawPointer.allocate(byteCount: 8 + blocks * 8, alignment: 8)
    defer { set.deallocate() }
    set.initializeMemory(as: UInt8.self, repeating: 0, count: 8 + blocks * 8)
    set.storeBytes(of: UInt32(ETHTOOL_SFEATURES), as: UInt32.self)
    set.storeBytes(of: UInt32(blocks), toByteOffset: 4, as: UInt32.self)
    var any = false
    for i in 0..<count {
        let bytes = UnsafeRawBufferPointer(start: strings + 12 + i * nameLength, count: nameLength)
        guard let on = decide(String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)) else { continue }
        let block = 8 + (i / 32) * 8, bit = UInt32(1) << UInt32(i % 32)
        set.storeBytes(of: set.load(fromByteOffset: block, as: UInt32.self) | bit, toByteOffset: block, as: UInt32.self)
        if on { set.storeBytes(of: set.load(fromByteOffset: block + 4, as: UInt32.self) | bit, toByteOffset: block + 4, as: UInt32.self) }
        any = true
    }
    guard any else { return }
    _ = try syscall("ioctl(ETHTOOL_SFEATURES) on \(interface)") { weft_ethtool(fd, interface, set) }
}
