import CPcap
import Glibc
import WeftSystem

/// A libpcap handle on one interface, in immediate mode with a large ring buffer.
///
/// The `pcap_t` pointer never leaves this class, and each handle is used by one thread only
/// (the sleeve's capture thread; the fast path captures on one handle and injects through another), which is what makes the
/// unchecked Sendable safe; `stop()` only calls `pcap_breakloop`, which libpcap allows from
/// another thread.
final class PcapHandle: @unchecked Sendable {
    private let handle: OpaquePointer

    /// Opens `interface`. `inbound` limits capture to frames arriving on it (so what we inject
    /// is not captured back); `bufferSize` is the kernel ring in bytes; `filter` a pcap filter
    /// expression the kernel applies (frames it refuses never reach user space). With
    /// `etherType` the socket is bound to that EtherType alone: the kernel then hands it only
    /// those frames received, instead of running it (a tap) for every frame in and out, and the
    /// interface is not made promiscuous (a promiscuous bridge passes every frame it forwards
    /// up to the host as well).
    init(interface: String, bufferSize: Int32, inbound: Bool, snaplen: Int32 = 65535, filter: String? = nil,
         etherType: UInt16? = nil) throws(SleeveError) {
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        guard let h = pcap_create(interface, &errbuf) else {
            throw SleeveError("pcap on \(interface): \(String(decoding: errbuf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))")
        }
        // These fail only on an activated handle, and this one is not activated yet.
        pcap_set_snaplen(h, snaplen)
        pcap_set_promisc(h, etherType == nil ? 1 : 0)
        pcap_set_immediate_mode(h, 1)
        pcap_set_buffer_size(h, bufferSize)
        pcap_set_timeout(h, 200)
        if let etherType { pcap_set_protocol_linux(h, Int32(etherType)) }
        let rc = pcap_activate(h)
        guard rc >= 0 else {
            let message = String(cString: pcap_geterr(h))
            pcap_close(h)
            throw SleeveError("pcap on \(interface): \(message)")
        }
        if inbound, pcap_setdirection(h, PCAP_D_IN) != 0 {
            let message = String(cString: pcap_geterr(h))
            pcap_close(h)
            throw SleeveError("pcap direction on \(interface): \(message)")
        }
        if let filter {
            var program = bpf_program()
            guard pcap_compile(h, &program, filter, 1, PCAP_NETMASK_UNKNOWN) == 0, pcap_setfilter(h, &program) == 0 else {
                let message = String(cString: pcap_geterr(h))
                pcap_close(h)
                throw SleeveError("pcap filter '\(filter)' on \(interface): \(message)")
            }
            pcap_freecode(&program)
        }
        handle = h
    }

    deinit { pcap_close(handle) }

    /// Calls `body` for each frame the kernel has (waiting up to 200 ms for one); returns the
    /// number handled, or -1 on an error, -2 after `stop()`.
    func dispatch(_ body: (UnsafeRawBufferPointer) -> Void) -> Int32 {
        withoutActuallyEscaping(body) { body in
            var context = body
            return withUnsafeMutablePointer(to: &context) { ctx in
                pcap_dispatch(handle, -1, { user, header, bytes in
                    guard let user, let header, let bytes else { return }
                    let body = user.withMemoryRebound(to: ((UnsafeRawBufferPointer) -> Void).self, capacity: 1) { $0.pointee }
                    body(UnsafeRawBufferPointer(start: bytes, count: Int(header.pointee.caplen)))
                }, UnsafeMutableRawPointer(ctx).assumingMemoryBound(to: UInt8.self))
            }
        }
    }

    /// Sends one frame out of the interface; false when the kernel refused it.
    @inline(__always)
    func inject(_ frame: UnsafeRawBufferPointer) -> Bool {
        pcap_inject(handle, frame.baseAddress, frame.count) == frame.count
    }

    /// A filter that matches no frame (each is at least 14 bytes long): for a handle that only
    /// injects, so the kernel copies nothing into its ring, which nobody reads.
    static let injectOnly = "less 1"

    /// Frames the kernel dropped because the capture ring was full, since the handle opened.
    func kernelDrops() -> Int {
        var stats = pcap_stat()
        return pcap_stats(handle, &stats) == 0 ? Int(stats.ps_drop) : 0
    }

    /// Makes a running `dispatch` return.
    func stop() { pcap_breakloop(handle) }
}
