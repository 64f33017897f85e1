import Glibc
import WeftSystem

/// Injects frames into the bridge through the capture port: a packet socket with
/// `PACKET_VNET_HDR` (which libpcap's cannot set), so each frame goes with its `OffloadHeader`
/// and a TCP super-frame reaches the container as one packet, its checksums finished by the
/// kernel only where they must be. Bound with protocol 0, the socket receives nothing; it
/// bypasses the queueing discipline (frames go straight to the veth). Sends are system calls
/// on one descriptor, which threads may share; each thread gathers into its own `FrameBatch`.
final class FrameInjector: @unchecked Sendable {
    let fd: Int32
    let mtu: Int

    init(interface: String, mtu: Int) throws(SleeveError) {
        self.mtu = mtu
        do { fd = try openInjectionSocket(interface: interface) } catch {
            throw SleeveError("injection on \(interface): \(error)")
        }
    }

    deinit { close(fd) }

    /// Injects one frame (its checksum field is rewritten: `OffloadHeader.prepare`); false
    /// when the kernel refused it.
    @inline(__always)
    func inject(_ frame: UnsafeMutableRawBufferPointer) -> Bool {
        var header = (UInt64(0), UInt16(0))  // 10 bytes of room
        let (offload, length) = OffloadHeader.prepare(frame, mtu: mtu)
        return withUnsafeMutableBytes(of: &header) { h in
            offload.write(to: h.baseAddress!)
            var iov = (iovec(iov_base: h.baseAddress, iov_len: OffloadHeader.size),
                       iovec(iov_base: frame.baseAddress, iov_len: length))
            return withUnsafeMutablePointer(to: &iov) { v in
                var m = msghdr()
                m.msg_iov = UnsafeMutableRawPointer(v).assumingMemoryBound(to: iovec.self)
                m.msg_iovlen = 2
                return (try? syscall("sendmsg (inject)") { sendmsg(fd, &m, 0) }) != nil
            }
        }
    }

    /// Injects the frames of `batch` with one `sendmmsg`; returns how many went.
    func inject(_ batch: FrameBatch) -> Int {
        var sent = 0
        while sent < batch.count {
            // A refusal (the link went down) drops the rest of this batch; the caller counts it.
            guard let n = try? sendMessages(fd, batch.headers + sent, count: batch.count - sent, "sendmmsg"), n > 0 else { break }
            sent += n
        }
        return sent
    }
}

/// Frames gathered for one batched injection, each with its offload header: pointers into
/// buffers that stay valid until `inject` (the receive batch's slots). One per thread.
final class FrameBatch {
    let capacity: Int
    private(set) var count = 0
    private let mtu: Int
    /// Two per frame: its offload header, then the frame.
    private let iovecs: UnsafeMutablePointer<iovec>
    private let offloads: UnsafeMutableRawPointer
    let headers: UnsafeMutablePointer<MultiMessageHeader>

    init(capacity: Int, mtu: Int) {
        self.capacity = capacity
        self.mtu = mtu
        iovecs = .allocate(capacity: 2 * capacity)
        offloads = .allocate(byteCount: 16 * capacity, alignment: 16)
        headers = .allocate(capacity: capacity)
        for i in 0..<capacity {
            iovecs[2 * i] = iovec(iov_base: offloads + 16 * i, iov_len: OffloadHeader.size)
            var h = MultiMessageHeader()
            h.msg_hdr.msg_iov = iovecs + 2 * i
            h.msg_hdr.msg_iovlen = 2
            headers[i] = h
        }
    }

    deinit {
        iovecs.deallocate()
        offloads.deallocate()
        headers.deallocate()
    }

    var isFull: Bool { count == capacity }

    /// Adds a frame (its checksum field is rewritten: `OffloadHeader.prepare`); the caller
    /// injects first when the batch is full.
    @inline(__always)
    func add(_ frame: UnsafeMutableRawBufferPointer) {
        let (offload, length) = OffloadHeader.prepare(frame, mtu: mtu)
        offload.write(to: offloads + 16 * count)
        iovecs[2 * count + 1] = iovec(iov_base: frame.baseAddress, iov_len: length)
        count += 1
    }

    func removeAll() { count = 0 }
}
