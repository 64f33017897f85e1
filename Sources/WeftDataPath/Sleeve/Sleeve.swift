import WeftSystem
import Glibc
import Dispatch
public import Logging
import Synchronization
public import WeftCrypto
public import WeftMesh
public import WeftTypes

/// The sleeve data path of one router: Ethernet frames captured from the `weft` bridge (through
/// `vethwe-pcap`) travel in UDP datagrams to the peer behind their destination MAC, directly
/// when the UDP path to that peer works both ways, else through the next hop of the mesh's
/// unicast route; frames for unknown or group addresses follow this router's broadcast tree.
/// With a password every datagram is sealed hop by hop under the session keys of the TCP
/// connection to that neighbour, and checked against a replay window.
///
/// Threads: one captures (pcap) and sends, one receives (UDP) and injects or relays; the router
/// calls `tick()` every second (heartbeats) and `update` on every topology change. Shared state
/// is one `Mutex`, taken once per frame or datagram for a few lookups.
public final class Sleeve: Sendable {
    public struct Configuration: Sendable {
        public var me: PeerName
        public var port: Int
        public var interface: String
        /// The overlay's IP MTU (the containers' interfaces get it).
        public var mtu: Int
        /// Seal datagrams (the mesh has a password).
        public var sealed: Bool
        /// `--trusted-subnets` as address ranges `[from, to)`: datagrams to and from peers there
        /// go unsealed when both sides trust each other.
        public var trusted: [(from: UInt32, to: UInt64)]

        public init(me: PeerName, port: Int = 6783, interface: String = "vethwe-pcap", mtu: Int = Sleeve.defaultMTU,
                    sealed: Bool, trusted: [(from: UInt32, to: UInt64)] = []) {
            self.me = me
            self.port = port
            self.interface = interface
            self.mtu = mtu
            self.sealed = sealed
            self.trusted = trusted
        }
    }

    /// A neighbour as the mesh knows it: where to send, and the session keys.
    public struct Neighbour: Sendable {
        public var address: UInt32
        public var port: Int
        public var keys: SessionKeys?

        public init(address: UInt32, port: Int, keys: SessionKeys?) {
            self.address = address
            self.port = port
            self.keys = keys
        }
    }

    /// The largest UDP payload that fits a 1500-byte IPv4 underlay unfragmented.
    public static let maxDatagram = 1472
    /// The overlay MTU by default: 1376, as Weave's sleeve. A frame of it (1390 bytes) fits one
    /// sealed datagram (1472 − 30 header − 16 tag − 2 = 1424 bytes of frame) on a 1500-byte
    /// underlay. A larger `--mtu` (up to `maxMTU`) is carried in fragments, one datagram each.
        public static let defaultMTU = 1376
    /// The largest overlay MTU: its frames still leave in one UDP GSO call (≤ 64 KiB).
    public static let maxMTU = 61440
    /// A neighbour's UDP path counts as working while heartbeats arrive within this time.
    static let pathTimeout: UInt64 = 3_000_000_000

    let configuration: Configuration
    let logger: Logger
    let state: Mutex<State>
    public let counters = SleeveCounters()
    private let stopped = Atomic<Bool>(false)
    private let socket: DatagramSocket
    private let capture: PcapHandle
    private let injector: FrameInjector
    private let tickBatch = Mutex(DatagramBatch(capacity: 64))
    private let frameIDs = Atomic<UInt32>(0)
    /// Whether the kernel takes UDP GSO sends (cleared after the first refusal).
    let segmentation = Atomic<Bool>(true)
    /// Whether the socket coalesces received datagrams (UDP GRO).
    let coalescing: Bool

    struct State {
        var paths: [PeerName: PeerPath] = [:]
        var unicast: [PeerName: PeerName] = [:]
        var routes: Routes?
        var children: [PeerName: [PeerName]] = [:]
        var table = ForwardingTable()

        /// Children of this router in `source`'s broadcast tree (cached per topology).
        mutating func broadcastChildren(of source: PeerName) -> [PeerName] {
            if let c = children[source] { return c }
            let c = routes?.broadcastNextHops(from: source) ?? []
            children[source] = c
            return c
        }
    }

    /// What this router knows of the UDP path to one neighbour.
    struct PeerPath {
        var address: sockaddr_in
        var sendKey: AEADKey?
        var receiveKey: AEADKey?
        var sendCounter: UInt64 = 0
        var window = ReplayWindow()
        /// When a valid datagram last came from it.
        var lastHeard: UInt64 = 0
        /// When it last said it hears us.
        var theyHearUs: UInt64 = 0
        /// Its address is in our trusted subnets.
        var trusted = false
        /// It said (in its last heartbeat) that ours is in its trusted subnets.
        var theyTrustUs = false
        /// How large a datagram the underlay carries to it.
        var mtu = PathMTU()
        /// The largest probe received from it, and when (reported back in our heartbeats).
        var probeReceived = 0
        var probeReceivedAt: UInt64 = 0
        /// The largest of our probes it reported receiving (in its last 3 s) in its latest
        /// heartbeat, and when that came. The latest report, not one per tick: heartbeats sent
        /// at the same instant of each second arrive a little before or after our own tick.
        var probeAcknowledged = 0
        var probeAcknowledgedAt: UInt64 = 0
        /// Since when it has been working both ways with our probes acknowledged (0: it is not).
        var steadySince: UInt64 = 0

        /// This path's send key has sealed as many datagrams as one key should
        /// (`aeadRotationLimit`): its connection is to be renewed.
        var dueForRenewal: Bool { sendKey != nil && sendCounter >= aeadRotationLimit }

        /// Datagrams on this path go unsealed: both ends trust each other's subnet.
        var clear: Bool { trusted && theyTrustUs }

        /// Both directions heard from recently. (Other threads stamp with their own clock
        /// readings, which may be later than `now`: compare without subtracting.)
        func works(now: UInt64) -> Bool {
            lastHeard > 0 && theyHearUs > 0 && now < lastHeard + Sleeve.pathTimeout && now < theyHearUs + Sleeve.pathTimeout
        }

        func hears(now: UInt64) -> Bool { lastHeard > 0 && now < lastHeard + Sleeve.pathTimeout }
    }

    /// The largest frame the capture port passes whole (its `gso_max_size`): the containers'
    /// TCP super-frames (at most 64 KiB less the stack's header room, about 65 000 bytes) come
    /// through as they are; anything larger the kernel cuts into MTU-sized frames first. Also
    /// the capture's snap length: libpcap's ring slots (immediate mode: TPACKET_V2, one frame
    /// per slot) are then just under 64 KiB, two to a 128 KiB block.
    public static let largestSuperFrame = 65400

    /// The capture ring: 128 slots of a super-frame each (8 MiB, resident all along). TCP keeps
    /// only a few super-frames per stream below its socket, so streams never fill it (none
    /// dropped at full speed with 64 slots); a burst of more than 128 small frames while the
    /// capture thread is off the CPU does (counted). 16 MiB measured no faster.
    static let captureRing: Int32 = 8 << 20

    /// The capture port's offloads by ethtool name (`HostBridge` sets them): checksum and TCP
    /// segmentation on, so frames reach pcap as the containers' stacks made them (checksums
    /// unfinished, TCP bursts as super-frames) and the receiver's kernel does that work once,
    /// only if ever needed (`OffloadHeader`); every other segmentation off, and SCTP's CRC, so
    /// the kernel finishes those before the capture (the receiver could not tell their size or
    /// their checksum's place). Names this kernel lacks do not matter; others are left alone.
    public static func captureOffload(_ feature: String) -> Bool? {
        switch feature {
        case "tx-scatter-gather", "tx-checksum-ip-generic", "tx-tcp-segmentation", "tx-tcp6-segmentation",
             "tx-tcp-ecn-segmentation", "tx-tcp-mangleid-segmentation":
            true
        case "tx-checksum-sctp", "tx-gso-list", "tx-gso-partial":
            false
        case let f where f.hasPrefix("tx-") && f.hasSuffix("segmentation"):
            false
        default:
            nil
        }
    }

    /// Opens the capture and the UDP socket; `start()` starts the threads.
    public init(configuration: Configuration, logger: Logger) throws(SleeveError) {
        self.configuration = configuration
        self.logger = logger
        socket = try DatagramSocket(port: configuration.port)
        coalescing = socket.enableReceiveCoalescing()
        capture = try PcapHandle(interface: configuration.interface, bufferSize: Self.captureRing, inbound: true,
                                 snaplen: Int32(Self.largestSuperFrame))
        injector = try FrameInjector(interface: configuration.interface, mtu: configuration.mtu)
        state = Mutex(State())
    }

    public func start() {
        do {
            try OwnThread.detach { [self] in captureLoop() }
            try OwnThread.detach { [self] in receiveLoop() }
        } catch {
            logger.critical("sleeve: cannot start its threads: \(error); no frames will pass")
        }
    }

    public func stop() {
        stopped.store(true, ordering: .relaxed)
        capture.stop()
    }

    var isStopped: Bool { stopped.load(ordering: .relaxed) }

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    // MARK: control

    /// Takes in the mesh's neighbours (with their keys) and routes. A neighbour whose keys
    /// changed (a new connection) starts a fresh path; MACs behind peers that left are forgotten.
    public func update(neighbours: [PeerName: Neighbour], routes: Routes) {
        state.withLock { s in
            var paths: [PeerName: PeerPath] = [:]
            for (name, n) in neighbours {
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = UInt16(n.port).bigEndian
                address.sin_addr.s_addr = n.address.bigEndian
                if var old = s.paths[name], old.sendKey == n.keys?.udpSend, old.address.sin_addr.s_addr == address.sin_addr.s_addr {
                    old.address = address
                    paths[name] = old
                } else {
                    var path = PeerPath(address: address, sendKey: n.keys?.udpSend, receiveKey: n.keys?.udpReceive)
                    path.trusted = configuration.trusted.contains { n.address >= $0.from && UInt64(n.address) < $0.to }
                    paths[name] = path
                }
            }
            s.paths = paths
            let gone = Set(s.unicast.keys).subtracting(routes.unicast.keys)
            for peer in gone { s.table.forget(peer: peer) }
            s.unicast = routes.unicast
            s.routes = routes
            s.children = [:]
        }
    }

    /// Whether the direct UDP path to each neighbour works now.
    public func directPaths() -> [PeerName: Bool] {
        let now = Self.now()
        return state.withLock { s in s.paths.mapValues { $0.works(now: now) } }
    }

    /// The neighbours whose frames go unsealed: a password is set, and both ends trust each
    /// other's subnet (`--trusted-subnets`, told in the heartbeats).
    public func clearPaths() -> Set<PeerName> {
        state.withLock { s in Set(s.paths.filter(\.value.clear).keys) }
    }

    /// Sends a heartbeat to every neighbour (each second): it tells the neighbour we hear it,
    /// and its arrival tells the neighbour its own heartbeats get through. Probes padded to the
    /// path's datagram size (and now and then the next larger) go with it (`PathMTU`); once the
    /// neighbour acknowledges probes of that size, the probe alone is the heartbeat. With
    /// `everyone` false (every other second), only to neighbours whose path is not steady yet
    /// (working both ways with probes acknowledged for 5 s): a steady path hears from us every
    /// 2 s, within the 3-s timeouts, and a new or failing one every second.
    public func tick(everyone: Bool = true) {
        let now = Self.now()
        tickBatch.withLock { batch in
            var count = 0
            state.withLock { s in
                s.table.expire(now: now)
                for (name, var path) in s.paths {
                    let acknowledged = now < path.probeAcknowledgedAt &+ Self.pathTimeout ? path.probeAcknowledged : 0
                    if path.hears(now: now), path.mtu.update(acknowledged: acknowledged, now: now) {
                        logger.info("sleeve: datagrams to \(name) now at most \(path.mtu.datagram) bytes")
                    }
                    let received = now < path.probeReceivedAt &+ Self.pathTimeout ? path.probeReceived : 0
                    // Steady: working both ways with probes acknowledged, for 5 s (a new
                    // path hears from us every second until then).
                    let acknowledgedInFull = acknowledged >= path.mtu.datagram
                    if path.works(now: now) && acknowledgedInFull {
                        if path.steadySince == 0 { path.steadySince = now }
                    } else {
                        path.steadySince = 0
                    }
                    let steady = path.steadySince > 0 && now >= path.steadySince &+ 5_000_000_000
                    guard everyone || !steady else {
                        s.paths[name] = path
                        continue
                    }
                    // While the neighbour acknowledges probes of the path's size, the probe is
                    // the heartbeat (it carries the same three bytes): one datagram per tick.
                    // Otherwise a small heartbeat goes too, so a path that stopped carrying large
                    // datagrams still looks alive and gets a lower size.
                    let heartbeat = acknowledgedInFull ? [] : [0]
                    for size in heartbeat + path.mtu.probes(now: now) {
                        // A full batch goes now: every neighbour gets its heartbeat and probes
                        // (with one batch of 64, neighbours past the 32nd got none, so their
                        // paths timed out and their probes went unanswered).
                        if count == batch.capacity {
                            socket.send(batch, count: count)
                            count = 0
                        }
                        let slot = batch.slot(count)
                        // Bit 0: we hear you; bit 1: we trust your subnet; bit 2: a probe. Then
                        // the largest probe of yours we received lately. Always sealed.
                        slot[SleeveHeader.size] = (path.hears(now: now) ? 1 : 0) | (path.trusted ? 2 : 0) | (size > 0 ? 4 : 0)
                        slot[SleeveHeader.size + 1] = UInt8(received >> 8)
                        slot[SleeveHeader.size + 2] = UInt8(received & 0xFF)
                        let overhead = SleeveHeader.size + (configuration.sealed ? AEADKey.overhead : 0)
                        let body = max(3, size - overhead)
                        if body > 3 { (slot.baseAddress! + SleeveHeader.size + 3).initializeMemory(as: UInt8.self, repeating: 0, count: body - 3) }
                        guard let grant = reserve(1, on: &path, heartbeat: true) else { continue }
                        let length = seal(slot, bodyLength: body, flags: .heartbeat, source: configuration.me, destination: name,
                                          hops: 1, key: grant.key, counter: grant.counter)
                        batch.addresses[count] = path.address
                        batch.lengths[count] = length
                        count += 1
                    }
                    s.paths[name] = path
                }
            }
            socket.send(batch, count: count)
        }
    }

    /// The neighbours whose send key is due for renewal (`PeerPath.dueForRenewal`).
    public func dueForRenewal() -> Set<PeerName> {
        state.withLock { s in Set(s.paths.filter(\.value.dueForRenewal).keys) }
    }

    /// The datagram size towards each neighbour (1472 unless probing found less).
    public func pathMTUs() -> [PeerName: Int] {
        state.withLock { s in s.paths.mapValues { $0.mtu.datagram } }
    }

    /// Bytes of frames a datagram to `hop` can carry.
    @inline(__always)
    func capacity(for hop: PeerName, in s: State) -> Int {
        (s.paths[hop]?.mtu.datagram ?? Self.maxDatagram) - SleeveHeader.size - (configuration.sealed ? AEADKey.overhead : 0)
    }

    // MARK: shared by both directions

    /// What sealing datagrams for one path needs, taken from it under the lock so the sealing
    /// itself (up to 64 KiB for a super-frame) runs outside: the key (nil: they go unsealed),
    /// the first of the counters reserved, and where to send.
    struct Grant {
        var key: AEADKey?
        var counter: UInt64
        var address: sockaddr_in
    }

    /// Reserves `count` counters of `path` for datagrams about to be sealed (with a password,
    /// all but frames on a path both ends trust; heartbeats always); nil when the path has no
    /// key yet. Each counter is used once: a key never seals twice with the same nonce.
    @inline(__always)
    func reserve(_ count: Int, on path: inout PeerPath, heartbeat: Bool = false) -> Grant? {
        let sealing = configuration.sealed && (heartbeat || !path.clear)
        if sealing, path.sendKey == nil { return nil }
        let first = path.sendCounter + 1
        path.sendCounter += UInt64(count)
        return Grant(key: sealing ? path.sendKey : nil, counter: first, address: path.address)
    }

    /// `reserve` on the path to neighbour `hop`, under the lock; nil when there is no such path
    /// (or no key yet).
    func reserve(_ count: Int, towards hop: PeerName) -> Grant? {
        state.withLock { s in
            guard var path = s.paths[hop], let grant = reserve(count, on: &path) else { return nil }
            s.paths[hop] = path
            return grant
        }
    }

    /// Writes the header into `slot` and seals the body that follows it under `key` (when
    /// given) with `counter`; returns the datagram's length. The header is associated data, and
    /// so is a fragment's `FragmentHeader` (the piece alone is sealed). With `piece`, a
    /// fragment's piece is taken from there (the capture ring) rather than from the slot: sealed
    /// or copied into place in one pass.
    @inline(__always)
    func seal(_ slot: UnsafeMutableRawBufferPointer, bodyLength: Int, flags: SleeveHeader.Flags, source: PeerName,
              destination: PeerName, hops: UInt8, key: AEADKey?, counter: UInt64, piece: UnsafeRawPointer? = nil) -> Int {
        var flags = flags
        if key != nil { flags.insert(.sealed) }
        let header = SleeveHeader(flags: flags, hops: hops, source: source, destination: destination,
                                  sender: configuration.me, counter: counter)
        header.write(to: slot)
        let clear = SleeveHeader.clearBytes(flags)
        let message = slot.baseAddress! + clear, length = SleeveHeader.size + bodyLength - clear
        guard let key else {
            if let piece { message.copyMemory(from: piece, byteCount: length) }
            return SleeveHeader.size + bodyLength
        }
        let sealed = key.seal(into: message, from: piece ?? UnsafeRawPointer(message), length: length, counter: counter,
                              additional: UnsafeRawBufferPointer(rebasing: slot[0..<clear]))
        return clear + sealed
    }

    /// The neighbour to send to for `destination`: itself when its UDP path works; else the
    /// next hop of the unicast route when that path works; else (the TCP connection to it may
    /// still stand while UDP is blocked) any neighbour with a working path that is connected
    /// to it, the lowest name first so both directions tend to pick the same relay.
    @inline(__always)
    func nextHop(_ destination: PeerName, in s: State, now: UInt64) -> PeerName? {
        if let p = s.paths[destination], p.works(now: now) { return destination }
        if let hop = s.unicast[destination], hop != destination, let p = s.paths[hop], p.works(now: now) { return hop }
        return s.routes?.adjacency[destination]?.first { $0 != destination && s.paths[$0]?.works(now: now) == true }
    }


    /// A number for the next fragmented frame (unique per source, wrapping).
    func nextFrameID() -> UInt32 { frameIDs.wrappingAdd(1, ordering: .relaxed).newValue }

    /// Injects one frame into the bridge (its TCP or UDP checksum field is rewritten).
    @inline(__always)
    func inject(_ frame: UnsafeMutableRawBufferPointer) -> Bool { injector.inject(frame) }

    /// Injects the gathered frames with one call and empties the batch.
    func inject(_ batch: FrameBatch) {
        _ = injector.inject(batch)
        batch.removeAll()
    }

    func receive(into batch: DatagramBatch) -> Int { socket.receive(into: batch) }

    func send(_ batch: DatagramBatch, from: Int = 0, count: Int) { socket.send(batch, from: from, count: count) }

    /// Sends the datagrams in `count` buffers with one UDP GSO call; false (and no more tries)
    /// when the kernel refuses.
    func sendSegments(_ iov: UnsafeMutablePointer<iovec>, count: Int, segment: Int, to address: sockaddr_in) -> Bool {
        guard segmentation.load(ordering: .relaxed) else { return false }
        if socket.sendSegments(iov, count: count, segment: segment, to: address) { return true }
        segmentation.store(false, ordering: .relaxed)
        logger.notice("sleeve: the kernel refused UDP segmentation offload; sending fragments one by one")
        return false
    }

    func dispatchCaptured(_ body: (UnsafeRawBufferPointer) -> Void) -> Int32 { capture.dispatch(body) }

    /// The capture ring's overflows so far (read on the capture thread, which owns the handle).
    func captureDrops() -> Int { capture.kernelDrops() }
}
