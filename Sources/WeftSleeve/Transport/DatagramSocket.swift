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

    /// Receives up to `batch.capacity` datagrams into `batch`; returns how many (0 on timeout).
    func receive(into batch: DatagramBatch) -> Int {
        for i in 0..<batch.capacity {
            batch.headers[i].msg_hdr.msg_namelen = socklen_t(MemoryLayout<sockaddr_in>.size)
            batch.iovecs[i].iov_len = DatagramBatch.slotSize
        }
        while true {
            let n = recvmmsg(fd, batch.headers, UInt32(batch.capacity), Int32(MSG_WAITFORONE), nil)
            if n >= 0 {
                for i in 0..<Int(n) { batch.lengths[i] = Int(batch.headers[i].msg_len) }
                return Int(n)
            }
            if errno == EINTR { continue }
            return 0
        }
    }

    /// Sends datagrams `from..<from + count` of `batch` (each to its slot's address).
    func send(_ batch: DatagramBatch, from: Int = 0, count: Int) {
        var sent = from
        let count = from + count
        while sent < count {
            for i in sent..<count {
                batch.iovecs[i].iov_len = batch.lengths[i]
                batch.headers[i].msg_hdr.msg_namelen = socklen_t(MemoryLayout<sockaddr_in>.size)
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
    static let slotSize = 2048
    let capacity: Int
    let buffers: UnsafeMutableRawPointer
    let addresses: UnsafeMutablePointer<sockaddr_in>
    let iovecs: UnsafeMutablePointer<iovec>
    let headers: UnsafeMutablePointer<weft_mmsghdr>
    let lengths: UnsafeMutablePointer<Int>

    init(capacity: Int) {
        self.capacity = capacity
        buffers = .allocate(byteCount: capacity * Self.slotSize, alignment: 16)
        addresses = .allocate(capacity: capacity)
        addresses.initialize(repeating: sockaddr_in(), count: capacity)
        iovecs = .allocate(capacity: capacity)
        headers = .allocate(capacity: capacity)
        lengths = .allocate(capacity: capacity)
        lengths.initialize(repeating: 0, count: capacity)
        for i in 0..<capacity {
            iovecs[i] = iovec(iov_base: buffers + i * Self.slotSize, iov_len: Self.slotSize)
            var h = weft_mmsghdr()
            h.msg_hdr.msg_name = UnsafeMutableRawPointer(addresses + i)
            h.msg_hdr.msg_namelen = socklen_t(MemoryLayout<sockaddr_in>.size)
            h.msg_hdr.msg_iov = iovecs + i
            h.msg_hdr.msg_iovlen = 1
            headers[i] = h
        }
    }

    deinit {
        buffers.deallocate()
        addresses.deallocate()
        iovecs.deallocate()
        headers.deallocate()
        lengths.deallocate()
    }

    /// Slot `i`'s buffer.
    @inline(__always)
    func slot(_ i: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: buffers + i * Self.slotSize, count: Self.slotSize)
    }
}
