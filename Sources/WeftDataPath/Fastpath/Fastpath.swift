import WeftSystem
import Glibc
import Dispatch
public import Logging
import Synchronization
public import WeftTypes

/// The fast path's user-space part: the kernel VXLAN device carries the frames; this probes,
/// once a second, every neighbour that has the fast path, with frames sent through that device
/// (`FastpathProbe`), and catches theirs where the bridge delivers them, to itself. Both packet
/// sockets are bound to the probe's EtherType alone: the kernel hands them probes and nothing
/// else, and does not run them for the frames the fast path carries (as it runs a capture of
/// every EtherType, a tap, for each). `FastpathPaths` decides who is up.
public final class Fastpath: Sendable {
    public static let device = "vxlan-6784"
    public static let port: UInt16 = 6784
    /// The VXLAN network identifier every Weft router uses.
    public static let vni: UInt32 = 6784

    private let me: PeerName
    /// Probes are as large as the largest frame the overlay carries.
    private let frameSize: Int
    private let capture: PcapHandle
    private let injector: PcapHandle
    private let paths = Mutex(FastpathPaths())
    private let probe: Mutex<UnsafeMutableRawBufferPointer>
    private let stopped = Atomic<Bool>(false)
    private let logger: Logger

    /// Opens the capture on `bridge` and the injector on the VXLAN device (both must exist).
    public init(me: PeerName, bridge: String, mtu: Int, logger: Logger) throws(SleeveError) {
        self.me = me
        self.logger = logger
        frameSize = mtu + 14
        // Probes are small and a few a second: a small ring (its pages stay resident).
        capture = try PcapHandle(interface: bridge, bufferSize: 1 << 18, inbound: true, snaplen: 64,
                                 etherType: FastpathProbe.etherType)
        injector = try PcapHandle(interface: Self.device, bufferSize: 1 << 16, inbound: true, snaplen: 64,
                                  filter: PcapHandle.injectOnly, etherType: FastpathProbe.etherType)
        probe = Mutex(UnsafeMutableRawBufferPointer.allocate(byteCount: mtu + 14, alignment: 16))
    }

    deinit { probe.withLock { $0.deallocate() } }

    public func start() {
        do { try OwnThread.detach { [self] in probeLoop() } } catch {
            logger.critical("fastpath: cannot start its probe thread: \(error); every peer stays on the sleeve")
        }
    }

    /// Reads probes from the VXLAN device until stopped.
    private func probeLoop() {
        while !stopped.load(ordering: .relaxed) {
            let rc = capture.dispatch { frame in
                guard let p = FastpathProbe(frame: frame), p.receiver == me else { return }
                let now = Self.now()
                paths.withLock { $0.received(from: p.sender, hearsUs: p.hearsReceiver, now: now) }
            }
            if rc == -1, !stopped.load(ordering: .relaxed) {
                logger.error("fastpath: capture on \(Self.device) failed; probes are no longer received")
                return
            }
            if rc == -1 { return }
        }
    }

    public func stop() {
        stopped.store(true, ordering: .relaxed)
        capture.stop()
    }

    /// The neighbours to probe (those that have the fast path and an underlay address).
    public func update(candidates: Set<PeerName>) {
        paths.withLock { $0.set(candidates: candidates) }
    }

    /// Sends a probe to every candidate (their bridge MACs must have forwarding entries on the
    /// device by now; with `everyone` false, every other second, only to those not up: one that
    /// is up hears from us every 2 s, within the 3-s timeout) and returns the peers whose state
    /// changed.
    public func tick(everyone: Bool = true) -> [(peer: PeerName, up: Bool)] {
        let now = Self.now()
        let (candidates, heard, up) = paths.withLock { p in
            (p.candidates, Set(p.candidates.filter { p.hears($0, now: now) }), p.up)
        }
        probe.withLock { buffer in
            for peer in candidates.sorted() where everyone || !up.contains(peer) {
                FastpathProbe(sender: me, receiver: peer, hearsReceiver: heard.contains(peer)).write(into: buffer, length: frameSize)
                _ = injector.inject(UnsafeRawBufferPointer(buffer))
            }
        }
        return paths.withLock { $0.evaluate(now: now) }
    }

    /// The peers the fast path works with now.
    public var up: Set<PeerName> { paths.withLock { $0.up } }

    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}
