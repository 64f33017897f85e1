import CPcap
import Glibc

/// A UDP socket with batched I/O (`recvmmsg`, `sendmmsg`) for the sleeve's threads.
///
/// The data path runs on dedicated threads that block in the kernel: a SwiftNIO channel would
/// add an event-loop hop and a buffer per datagram where a batch of preallocated slots and one
/// system call per batch do. The descriptor is only read and written through system calls,
/// which are thread-safe, hence the unchecked Sendable.
final class DatagramSocket: @unchecked Sendable {
    let fd: Int32

    /// Binds UDP `port` on every address; kernel buffers of `bufferSize` bytes each way.
    init(port: Int, bufferSize: Int32 = 4 << 20) throws(SleeveError) {
        let s = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard s >= 0 else { throw SleeveError("UDP socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1, size = bufferSize
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, 4)
        setsockopt(s, SOL_SOCKET, SO_RCVBUF, &size, 4)
        setsockopt(s, SOL_SOCKET, SO_SNDBUF, &size, 4)
        // Wake the receive thread now and then, so it notices a stop.
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            let e = errno
            close(s)
            throw SleeveError("bind UDP port \(port): \(String(cString: strerror(e)))")
        }
        fd = s
    }

    deinit { close(fd) }

    /// Asks the kernel to hand over runs of datagrams from one sender coalesced (UDP GRO);
    /// `receive` splits them again. False when this kernel cannot.
    func enableReceiveCoalescing() -> Bool {
        var one: Int32 = 1
        return setsockopt(fd, Int32(IPPROTO_UDP), Self.udpGRO, &one, 4) == 0
    }

    static let udpSegment: Int32 = 103  // UDP_SEGMENT
    static let udpGRO: Int32 = 104      // UDP_GRO

    /// Sends datagrams of `segment` bytes each (the last may be shorter), gathered from `count`
    /// buffers that follow one another logically, to `address` in one system call: the kernel
    /// cuts them apart (UDP GSO), and through veths and the receiver's GRO they may even stay one
    /// buffer to the end. The buffers are not copied together first. False when refused.
    func sendSegments(_ iov: UnsafeMutablePointer<iovec>, count: Int, segment: Int, to address: sockaddr_in) -> Bool {
        var address = address
        // One control message: cmsghdr (16 bytes on 64-bit Linux) and a u16, padded to 24.
        var control = (UInt64(18), UInt32(IPPROTO_UDP), UInt32(bitPattern: Self.udpSegment), UInt64(segment))
        return withUnsafeMutablePointer(to: &address) { a in
            withUnsafeMutableBytes(of: &control) { c in
                var m = msghdr()
                m.msg_name = UnsafeMutableRawPointer(a)
                m.msg_namelen = socklen_t(MemoryLayout<sockaddr_in>.size)
                m.msg_iov = iov
                m.msg_iovlen = count
                m.msg_control = c.baseAddress
                m.msg_controllen = 24
                while true {
                    if sendmsg(fd, &m, 0) >= 0 { return true }
                    if errno != EINTR { return false }
                }
            }
        }
    }

    /// Receives up to `batch.capacity` messages into `batch`; returns how many (0 on timeout).
    /// A message may hold several datagrams coalesced by GRO: `batch.segments[i]` is then their
    /// size (0: one datagram).
    func receive(into batch: DatagramBatch) -> Int {
        for i in 0..<batch.capacity {
            batch.headers[i].msg_hdr.msg_namelen = socklen_t(MemoryLayout<sockaddr_in>.size)
            batch.headers[i].msg_hdr.msg_controllen = DatagramBatch.controlSize
            batch.iovecs[i].iov_len = batch.slotSize
        }
        while true {
            let n = recvmmsg(fd, batch.headers, UInt32(batch.capacity), Int32(MSG_WAITFORONE), nil)
            if n >= 0 {
                for i in 0..<Int(n) {
                    batch.lengths[i] = Int(batch.headers[i].msg_len)
                    batch.segments[i] = Self.groSegment(batch.controls + i * DatagramBatch.controlSize,
                                                        length: Int(batch.headers[i].msg_hdr.msg_controllen))
                }
                return Int(n)
            }
            if errno == EINTR { continue }
            return 0
        }
    }

    /// The segment size in a UDP_GRO control message, or 0.
    private static func groSegment(_ control: UnsafeMutableRawPointer, length: Int) -> Int {
        var offset = 0
        while offset + 16 <= length {
            let cmsgLength = control.load(fromByteOffset: offset, as: UInt64.self)
            let level = control.load(fromByteOffset: offset + 8, as: Int32.self)
            let type = control.load(fromByteOffset: offset + 12, as: Int32.self)
            if level == Int32(IPPROTO_UDP), type == udpGRO, cmsgLength >= 20 {
                return Int(control.load(fromByteOffset: offset + 16, as: Int32.self))
            }
            guard cmsgLength >= 16 else { return 0 }
            offset += (Int(cmsgLength) + 7) & ~7
        }
        return 0
    }

    /// Sends datagrams `from..<from + count` of `batch` (each to its slot's address).
    func send(_ batch: DatagramBatch, from: Int = 0, count: Int) {
        var sent = from
        let count = from + count
        while sent < count {
            for i in sent..<count {
                batch.iovecs[i].iov_len = batch.lengths[i]
                batch.headers[i].msg_hdr.msg_namelen = socklen_t(MemoryLayout<sockaddr_in>.size)
                batch.headers[i].msg_hdr.msg_controllen = 0
            }
            let n = sendmmsg(fd, batch.headers + sent, UInt32(count - sent), 0)
            if n < 0 {
                if errno == EINTR { continue }
                // A datagram the kernel refuses (no route, too big) is dropped; go on.
                sent += 1
                continue
            }
            sent += Int(n)
        }
    }
}

/// Preallocated slots for a batch of datagrams: buffers, addresses and the `mmsghdr` array,
/// allocated once and reused for every batch.
final class DatagramBatch: @unchecked Sendable {
    static let controlSize = 64
    let slotSize: Int
    let capacity: Int
    let controls: UnsafeMutableRawPointer
    /// Per received message: the size of the datagrams GRO coalesced into it (0: just one).
    let segments: UnsafeMutablePointer<Int>
    let buffers: UnsafeMutableRawPointer
    let addresses: UnsafeMutablePointer<sockaddr_in>
    let iovecs: UnsafeMutablePointer<iovec>
    let headers: UnsafeMutablePointer<weft_mmsghdr>
    let lengths: UnsafeMutablePointer<Int>

    /// `slotSize` 2048 holds one datagram; 65536 a GRO-coalesced run.
    init(capacity: Int, slotSize: Int = 2048) {
        self.capacity = capacity
        self.slotSize = slotSize
        buffers = .allocate(byteCount: capacity * slotSize, alignment: 16)
        controls = .allocate(byteCount: capacity * Self.controlSize, alignment: 8)
        segments = .allocate(capacity: capacity)
        segments.initialize(repeating: 0, count: capacity)
        addresses = .allocate(capacity: capacity)
        addresses.initialize(repeating: sockaddr_in(), count: capacity)
        iovecs = .allocate(capacity: capacity)
        headers = .allocate(capacity: capacity)
        lengths = .allocate(capacity: capacity)
        lengths.initialize(repeating: 0, count: capacity)
        for i in 0..<capacity {
            iovecs[i] = iovec(iov_base: buffers + i * slotSize, iov_len: slotSize)
            var h = weft_mmsghdr()
            h.msg_hdr.msg_name = UnsafeMutableRawPointer(addresses + i)
            h.msg_hdr.msg_namelen = socklen_t(MemoryLayout<sockaddr_in>.size)
            h.msg_hdr.msg_iov = iovecs + i
            h.msg_hdr.msg_iovlen = 1
            h.msg_hdr.msg_control = controls + i * Self.controlSize
            h.msg_hdr.msg_controllen = 0
            headers[i] = h
        }
    }

    deinit {
        buffers.deallocate()
        controls.deallocate()
        segments.deallocate()
        addresses.deallocate()
        iovecs.deallocate()
        headers.deallocate()
        lengths.deallocate()
    }

    /// Slot `i`'s buffer.
    @inline(__always)
    func slot(_ i: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: buffers + i * slotSize, count: slotSize)
    }
}
