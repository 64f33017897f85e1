import Glibc
import WeftSystem

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
        let s: Int32
        do { s = try syscall("UDP socket") { socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) } } catch {
            throw SleeveError("\(error)")
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        do {
            try setSocketOption(s, level: SOL_SOCKET, name: SO_REUSEADDR, value: Int32(1), "setsockopt(SO_REUSEADDR)")
            try setSocketOption(s, level: SOL_SOCKET, name: SO_RCVBUF, value: bufferSize, "setsockopt(SO_RCVBUF)")
            try setSocketOption(s, level: SOL_SOCKET, name: SO_SNDBUF, value: bufferSize, "setsockopt(SO_SNDBUF)")
            // Wake the receive thread now and then, so it notices a stop.
            try setSocketOption(s, level: SOL_SOCKET, name: SO_RCVTIMEO, value: timeval(tv_sec: 0, tv_usec: 200_000),
                                "setsockopt(SO_RCVTIMEO)")
            try syscall("bind UDP port \(port)") {
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
            }
        } catch {
            close(s)
            throw SleeveError("\(error)")
        }
        fd = s
    }

    deinit { close(fd) }

    /// Asks the kernel to hand over runs of datagrams from one sender coalesced (UDP GRO);
    /// `receive` splits them again. False when this kernel cannot.
    func enableReceiveCoalescing() -> Bool {
        // A kernel without UDP GRO refuses it: the sleeve then receives datagram by datagram.
        (try? setSocketOption(fd, level: Int32(IPPROTO_UDP), name: LinuxSocketOption.udpGRO, value: Int32(1),
                              "setsockopt(UDP_GRO)")) != nil
    }

    /// Sends datagrams of `segment` bytes each (the last may be shorter), gathered from `count`
    /// buffers that follow one another logically, to `address` in one system call: the kernel
    /// cuts them apart (UDP GSO), and through veths and the receiver's GRO they may even stay one
    /// buffer to the end. The buffers are not copied together first. False when refused.
    func sendSegments(_ iov: UnsafeMutablePointer<iovec>, count: Int, segment: Int, to address: sockaddr_in) -> Bool {
        var address = address
        // One control message: cmsghdr (16 bytes on 64-bit Linux) and a u16, padded to 24.
        var control = (UInt64(18), UInt32(IPPROTO_UDP), UInt32(bitPattern: LinuxSocketOption.udpSegment), UInt64(segment))
        return withUnsafeMutablePointer(to: &address) { a in
            withUnsafeMutableBytes(of: &control) { c in
                var m = msghdr()
                m.msg_name = UnsafeMutableRawPointer(a)
                m.msg_namelen = socklen_t(MemoryLayout<sockaddr_in>.size)
                m.msg_iov = iov
                m.msg_iovlen = count
                m.msg_control = c.baseAddress
                m.msg_controllen = 24
                // Refused (no GSO here, no route): the caller falls back or drops and counts.
                return (try? syscall("sendmsg(UDP_SEGMENT)") { sendmsg(fd, &m, 0) }) != nil
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
        // A timeout (EAGAIN, so the thread can notice a stop) or an error: nothing this round.
        guard let n = try? receiveMessages(fd, batch.headers, count: batch.capacity, flags: Int32(MSG_WAITFORONE), "recvmmsg")
        else { return 0 }
        for i in 0..<n {
            batch.lengths[i] = Int(batch.headers[i].msg_len)
            batch.segments[i] = Self.groSegment(batch.controls + i * DatagramBatch.controlSize,
                                                length: Int(batch.headers[i].msg_hdr.msg_controllen))
        }
        return n
    }

    /// The segment size in a UDP_GRO control message, or 0.
    private static func groSegment(_ control: UnsafeMutableRawPointer, length: Int) -> Int {
        var offset = 0
        while offset + 16 <= length {
            let cmsgLength = control.load(fromByteOffset: offset, as: UInt64.self)
            let level = control.load(fromByteOffset: offset + 8, as: Int32.self)
            let type = control.load(fromByteOffset: offset + 12, as: Int32.self)
            if level == Int32(IPPROTO_UDP), type == LinuxSocketOption.udpGRO, cmsgLength >= 20 {
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
            do { sent += try sendMessages(fd, batch.headers + sent, count: count - sent, "sendmmsg") } catch {
                // A datagram the kernel refuses (no route, too big) is dropped; go on.
                sent += 1
            }
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
    let headers: UnsafeMutablePointer<MultiMessageHeader>
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
            var h = MultiMessageHeader()
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
