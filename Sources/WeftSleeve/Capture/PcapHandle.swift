import CPcap

/// A libpcap handle on one interface, in immediate mode with a large ring buffer.
///
/// The `pcap_t` pointer never leaves this class, and each handle is used by one thread only
/// (the sleeve captures on one handle and injects through another), which is what makes the
/// unchecked Sendable safe; `stop()` only calls `pcap_breakloop`, which libpcap allows from
/// another thread.
final class PcapHandle: @unchecked Sendable {
    private let handle: OpaquePointer

    /// Opens `interface`. `inbound` limits capture to frames arriving on it (so what we inject
    /// is not captured back); `bufferSize` is the kernel ring in bytes.
    init(interface: String, bufferSize: Int32, inbound: Bool, snaplen: Int32 = 65535) throws(SleeveError) {
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        guard let h = pcap_create(interface, &errbuf) else {
            throw SleeveError("pcap on \(interface): \(String(decoding: errbuf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))")
        }
        pcap_set_snaplen(h, snaplen)
        pcap_set_promisc(h, 1)
        pcap_set_immediate_mode(h, 1)
        pcap_set_buffer_size(h, bufferSize)
        pcap_set_timeout(h, 200)
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

    /// Makes a running `dispatch` return.
    func stop() { pcap_breakloop(handle) }
}
