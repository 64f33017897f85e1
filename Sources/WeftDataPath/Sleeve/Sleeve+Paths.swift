import Glibc
import WeftCrypto
import WeftMesh
import WeftTypes

/// Gathers frames into datagrams in the slots of one `DatagramBatch` (one open datagram per
/// destination, source, kind and hop count), seals them and sends the batch with one system
/// call. Each sleeve thread owns one, so nothing here is shared.
final class DatagramAssembler {
    struct Key: Hashable {
        var destination: PeerName
        var source: PeerName
        var broadcast: Bool
        var hops: UInt8
    }

    private let sleeve: Sleeve
    let batch: DatagramBatch
    /// Where a fragmented frame's datagrams are laid end to end for its GSO sends (a 64 KiB
    /// frame in pieces for the smallest path: 133 datagrams of 548 bytes).
    private static let trainCapacity = 80 << 10
    private let train = UnsafeMutableRawPointer.allocate(byteCount: trainCapacity, alignment: 16)
    /// The train's datagrams (sealed), or their headers and pieces (clear), for `sendmsg`.
    private let iovecs = UnsafeMutablePointer<iovec>.allocate(capacity: 2 * (trainCapacity / 548 + 1))
    /// Open datagrams: key → (slot, next hop, body bytes so far, body bytes it may hold).
    private var open: [Key: (slot: Int, hop: PeerName, body: Int, capacity: Int)] = [:]
    private var used = 0

    init(sleeve: Sleeve, slots: Int = 64) {
        self.sleeve = sleeve
        batch = DatagramBatch(capacity: slots)
    }

    deinit {
        train.deallocate()
        iovecs.deallocate()
    }

    /// Adds `frame` for `key`; false when there is no working path towards the destination. A
    /// frame too big for one datagram goes out at once in fragments.
    @inline(__always)
    func add(_ frame: UnsafeRawBufferPointer, _ key: Key, now: UInt64) -> Bool {
        let need = FrameList.encodedSize(frame.count)
        if var d = open[key] {
            if d.body + need <= d.capacity {
                d.body = FrameList.append(frame, to: bodyOf(d.slot), at: d.body)
                open[key] = d
                return true
            }
            finish(key)
        }
        guard let (hop, capacity) = route(key.destination, now: now) else { return false }
        guard need <= capacity else { return addFragments(frame, key, hop: hop, capacity: capacity) }
        if used == batch.capacity { flush() }
        let slot = used
        used += 1
        batch.lengths[slot] = 0
        open[key] = (slot, hop, FrameList.append(frame, to: bodyOf(slot), at: 0), capacity)
        return true
    }

    /// The neighbour to send to for `destination`, and how many body bytes a datagram to it holds.
    @inline(__always)
    private func route(_ destination: PeerName, now: UInt64) -> (PeerName, Int)? {
        sleeve.state.withLock { s in sleeve.nextHop(destination, in: s, now: now).map { ($0, sleeve.capacity(for: $0, in: s)) } }
    }

    /// Sends `frame` in pieces that fit the path to `hop`, one datagram each, numbered by this router.
    private func addFragments(_ frame: UnsafeRawBufferPointer, _ key: Key, hop: PeerName, capacity: Int) -> Bool {
        guard frame.count <= 65535 else { return false }
        let id = sleeve.nextFrameID()
        let piece = capacity - FragmentHeader.size
        if sendTrain(frame, key, hop: hop, id: id, piece: piece) { return true }
        var offset = 0
        while offset < frame.count {
            if used == batch.capacity { flush() }
            let n = min(piece, frame.count - offset)
            let slot = used
            used += 1
            let body = bodyOf(slot)
            FragmentHeader(frameID: id, offset: offset, total: frame.count).write(to: body)
            (body.baseAddress! + FragmentHeader.size).copyMemory(from: frame.baseAddress! + offset, byteCount: n)
            seal(slot: slot, hop: hop, bodyLength: FragmentHeader.size + n, fragment: true, key)
            offset += n
        }
        return true
    }

    /// Sends all fragments of `frame` in UDP GSO calls of up to 64 datagrams and 65 000 bytes
    /// (a super-frame takes two): every datagram but the last is exactly the path's datagram
    /// size. False when GSO is not available.
    private func sendTrain(_ frame: UnsafeRawBufferPointer, _ key: Key, hop: PeerName, id: UInt32, piece: Int) -> Bool {
        let stride = SleeveHeader.size + FragmentHeader.size + piece + (sleeve.configuration.sealed ? AEADKey.overhead : 0)
        let count = (frame.count + piece - 1) / piece
        guard count * stride <= Self.trainCapacity, sleeve.segmentation.load(ordering: .relaxed) else { return false }
        flush()  // what was queued before this frame leaves before it
        var flags: SleeveHeader.Flags = [.fragment]
        if key.broadcast { flags.insert(.broadcast) }
        // The counters under the lock, the sealing after it.
        guard let grant = sleeve.reserve(count, towards: hop) else { return false }
        // Sealed, each datagram is laid out whole in the train (the piece sealed straight from
        // the frame); clear, the train holds the headers and the kernel gathers each piece from
        // the frame itself: one iovec per datagram, or two.
        let gathered = grant.key == nil
        let perDatagram = gathered ? 2 : 1
        var length = 0, segment = 0, offset = 0, counter = grant.counter, datagrams = 0
        while offset < frame.count {
            let n = min(piece, frame.count - offset)
            let datagram = UnsafeMutableRawBufferPointer(start: train + length, count: stride)
            let body = UnsafeMutableRawBufferPointer(rebasing: datagram[SleeveHeader.size...])
            FragmentHeader(frameID: id, offset: offset, total: frame.count).write(to: body)
            let size: Int
            if gathered {
                let headers = sleeve.seal(datagram, bodyLength: FragmentHeader.size, flags: flags, source: key.source,
                                          destination: key.destination, hops: key.hops, key: nil, counter: counter)
                iovecs[2 * datagrams] = iovec(iov_base: train + length, iov_len: headers)
                iovecs[2 * datagrams + 1] = iovec(iov_base: UnsafeMutableRawPointer(mutating: frame.baseAddress! + offset), iov_len: n)
                length += headers
                size = headers + n
            } else {
                size = sleeve.seal(datagram, bodyLength: FragmentHeader.size + n, flags: flags, source: key.source,
                                   destination: key.destination, hops: key.hops, key: grant.key, counter: counter,
                                   piece: frame.baseAddress! + offset)
                iovecs[datagrams] = iovec(iov_base: train + length, iov_len: size)
                length += size
            }
            if segment == 0 { segment = size }  // every full piece makes a datagram of this size
            offset += n
            counter += 1
            datagrams += 1
        }
        let perCall = min(64, 65000 / segment)
        var sent = 0
        while sent < datagrams {
            let n = min(perCall, datagrams - sent)
            guard sleeve.sendSegments(iovecs + sent * perDatagram, count: n * perDatagram, segment: segment, to: grant.address) else {
                // Refused at once: the caller sends the pieces one by one; midway, the frame is
                // lost (its sender's TCP resends) rather than sent twice.
                return sent > 0
            }
            sent += n
        }
        sleeve.counters.datagramsSent.add(count, ordering: .relaxed)
        return true
    }

    /// Passes one fragment datagram's body on unchanged (a relay does not reassemble; a
    /// fragment too large for the next path is dropped).
    func forwardFragment(_ body: UnsafeRawBufferPointer, _ key: Key, now: UInt64) -> Bool {
        guard let (hop, capacity) = route(key.destination, now: now), body.count <= capacity else { return false }
        if used == batch.capacity { flush() }
        let slot = used
        used += 1
        bodyOf(slot).copyMemory(from: body)
        seal(slot: slot, hop: hop, bodyLength: body.count, fragment: true, key)
        return true
    }

    /// Seals every open datagram and sends the batch: runs of equal-sized datagrams to one
    /// address as one UDP GSO train, the rest with one `sendmmsg` per run.
    func flush() {
        for key in Array(open.keys) { finish(key) }
        var start = 0
        while start < used {
            // A slot left at length 0 (its path vanished) is skipped.
            while start < used && batch.lengths[start] == 0 { start += 1 }
            guard start < used else { break }
            let size = batch.lengths[start], to = batch.addresses[start]
            var end = start + 1
            while end < used, batch.lengths[end] > 0, (end - start + 1) * size <= 65000,
                  batch.addresses[end].sin_addr.s_addr == to.sin_addr.s_addr, batch.addresses[end].sin_port == to.sin_port,
                  batch.lengths[end] <= size {
                end += 1
                if batch.lengths[end - 1] < size { break }  // a shorter one ends a train
            }
            if end - start > 1, sleeve.segmentation.load(ordering: .relaxed) {
                // The slots themselves are the train: one iovec each, no copy.
                for i in start..<end { batch.iovecs[i].iov_len = batch.lengths[i] }
                if sleeve.sendSegments(batch.iovecs + start, count: end - start, segment: size, to: to) {
                    sleeve.counters.datagramsSent.add(end - start, ordering: .relaxed)
                    start = end
                    continue
                }
            }
            var run = start
            while run < used && batch.lengths[run] > 0 { run += 1 }
            sleeve.send(batch, from: start, count: run - start)
            sleeve.counters.datagramsSent.add(run - start, ordering: .relaxed)
            start = run
        }
        used = 0
    }

    private func finish(_ key: Key) {
        guard let d = open.removeValue(forKey: key) else { return }
        seal(slot: d.slot, hop: d.hop, bodyLength: d.body, fragment: false, key)
    }

    /// Seals slot `slot` for `hop`; a path that vanished leaves the slot at length 0 (unsent).
    private func seal(slot: Int, hop: PeerName, bodyLength: Int, fragment: Bool, _ key: Key) {
        var flags: SleeveHeader.Flags = fragment ? [.fragment] : []
        if key.broadcast { flags.insert(.broadcast) }
        batch.lengths[slot] = 0
        guard let grant = sleeve.reserve(1, towards: hop) else { return }
        batch.addresses[slot] = grant.address
        batch.lengths[slot] = sleeve.seal(batch.slot(slot), bodyLength: bodyLength, flags: flags, source: key.source,
                                          destination: key.destination, hops: key.hops, key: grant.key, counter: grant.counter)
    }

    @inline(__always)
    private func bodyOf(_ slot: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(rebasing: batch.slot(slot)[SleeveHeader.size...])
    }
}

extension Sleeve {
    /// The capture thread: frames from the bridge go to the peer behind their destination MAC,
    /// or along this router's broadcast tree.
    func captureLoop() {
        let assembler = DatagramAssembler(sleeve: self)
        let me = configuration.me
        let maxFrame = configuration.mtu + 14
        let answer = UnsafeMutableRawBufferPointer.allocate(byteCount: 128, alignment: 8)
        defer { answer.deallocate() }
        // The ring's overflow count costs a system call: read it once a second, not per dispatch.
        var statsDue: UInt64 = 0
        while !isStopped {
            let n = dispatchCaptured { frame in
                guard frame.count >= 14 else { return counters.drop(.malformed) }
                let now = Self.now()
                if frame.count > maxFrame {
                    // Bigger than the overlay MTU: a TCP super-frame goes whole (the receiver's
                    // kernel segments it); anything else gets its ICMP answer, or is dropped.
                    if OffloadHeader.isSuperFrame(frame) {
                        counters.superFramesSent.add(1, ordering: .relaxed)
                    } else {
                        if let length = FragmentationNeeded.answer(to: frame, mtu: configuration.mtu, into: answer) {
                            _ = inject(UnsafeMutableRawBufferPointer(rebasing: answer[0..<length]))
                            counters.fragmentationNeeded.add(1, ordering: .relaxed)
                        } else {
                            counters.drop(.tooBig)
                        }
                        return
                    }
                }
                let destination = MAC(frame, at: 0)
                let targets: Targets = state.withLock { s in
                    s.table.learn(MAC(frame, at: 6), at: .local, now: now)
                    if !destination.isGroup, let location = s.table.lookup(destination, now: now) {
                        switch location {
                        case .local: return .none
                        case let .peer(p): return .one(p)
                        }
                    }
                    return .tree(s.broadcastChildren(of: me))
                }
                switch targets {
                case .none: return
                case let .one(peer):
                    if assembler.add(frame, .init(destination: peer, source: me, broadcast: false, hops: SleeveHeader.maxHops), now: now) {
                        counters.framesSent.add(1, ordering: .relaxed)
                    } else {
                        counters.drop(.noRoute)
                    }
                case let .tree(children):
                    for child in children {
                        let key = DatagramAssembler.Key(destination: child, source: me, broadcast: true, hops: SleeveHeader.maxHops)
                        if assembler.add(frame, key, now: now) { counters.framesSent.add(1, ordering: .relaxed) }
                    }
                }
            }
            assembler.flush()
            if n == -1 { logger.error("sleeve: capture failed on \(configuration.interface)"); return }
            if Self.now() >= statsDue {
                counters.captureDropped.store(captureDrops(), ordering: .relaxed)
                statsDue = Self.now() + 1_000_000_000
            }
        }
    }

    enum Targets {
        case none
        case one(PeerName)
        case tree([PeerName])
    }

    /// The receive thread: datagrams are checked, opened, and their frames (put back together
    /// when fragmented) injected into the bridge and passed on down the source's tree, or
    /// relayed towards their destination.
    func receiveLoop() {
        // Room for GRO-coalesced runs (up to 64 KiB) when the socket coalesces.
        let batch = DatagramBatch(capacity: coalescing ? 32 : 64, slotSize: coalescing ? 65536 : 2048)
        let assembler = DatagramAssembler(sleeve: self)
        // Frames for local containers, injected together once the batch is handled (they
        // point into its slots, which the next receive overwrites).
        let frames = FrameBatch(capacity: 512, mtu: configuration.mtu)
        var reassembly = Reassembly()
        defer { reassembly.deallocate() }
        while !isStopped {
            let n = receive(into: batch)
            guard n > 0 else { continue }
            counters.datagramsReceived.add(n, ordering: .relaxed)
            let now = Self.now()
            for i in 0..<n {
                let message = UnsafeMutableRawBufferPointer(rebasing: batch.slot(i)[0..<batch.lengths[i]])
                let segment = batch.segments[i] > 0 ? batch.segments[i] : message.count
                var start = 0
                while start < message.count {
                    let end = min(start + segment, message.count)
                    handle(UnsafeMutableRawBufferPointer(rebasing: message[start..<end]), from: batch.addresses[i], assembler,
                           frames, &reassembly, now: now)
                    start = end
                }
            }
            inject(frames)
            assembler.flush()
        }
    }

    /// One received datagram.
    @inline(__always)
    private func handle(_ datagram: UnsafeMutableRawBufferPointer, from source: sockaddr_in, _ assembler: DatagramAssembler,
                        _ frames: FrameBatch, _ reassembly: inout Reassembly, now: UInt64) {
        guard let (header, body) = open(datagram, from: source, now: now), !header.flags.contains(.heartbeat) else { return }
        let broadcast = header.flags.contains(.broadcast)
        // With a password, what came unsealed (from a trusted neighbour) stays with us: passed
        // on, it would leave sealed under our key, vouched for by us.
        let relayable = !configuration.sealed || header.flags.contains(.sealed)
        guard header.destination == configuration.me else {
            guard relayable else { return counters.drop(.unsealedRelay) }
            // Not ours: on towards its destination.
            guard header.hops > 1 else { return counters.drop(.hopLimit) }
            let key = DatagramAssembler.Key(destination: header.destination, source: header.source,
                                            broadcast: broadcast, hops: header.hops - 1)
            if header.flags.contains(.fragment) {
                if assembler.forwardFragment(body, key, now: now) { counters.framesRelayed.add(1, ordering: .relaxed) }
                else { counters.drop(.noRoute) }
                return
            }
            guard !FrameList(body).isMalformed else { return counters.drop(.malformed) }
            for frame in FrameList(body) {
                if assembler.add(frame, key, now: now) { counters.framesRelayed.add(1, ordering: .relaxed) }
                else { counters.drop(.noRoute) }
            }
            return
        }
        if header.flags.contains(.fragment) {
            guard let fragment = FragmentHeader(from: body) else { return counters.drop(.malformed) }
            let data = UnsafeRawBufferPointer(rebasing: body[FragmentHeader.size...])
            switch reassembly.add(fragment, data: data, source: header.source.rawValue, now: now) {
            case .pending: return
            case .malformed: counters.drop(.malformed)
            case let .complete(frame):
                // The reassembly buffer may serve the next fragment: inject it now.
                deliver(CollectionOfOne(frame), header, assembler, nil, relay: relayable, now: now)
            }
        } else {
            guard !FrameList(body).isMalformed else { return counters.drop(.malformed) }
            deliver(FrameList(body), header, assembler, frames, relay: relayable, now: now)
        }
    }

    /// Frames that reached their destination: learn where their senders are, inject them (into
    /// `batch` when given, else at once), and for a broadcast pass them on to this router's
    /// children in the source's tree (when `relay`: not what came unsealed under a password).
    private func deliver<Frames: Sequence>(_ frames: Frames, _ header: SleeveHeader, _ assembler: DatagramAssembler,
                                           _ batch: FrameBatch?, relay: Bool, now: UInt64) where Frames.Element == UnsafeRawBufferPointer {
        let children: [PeerName] = state.withLock { s in
            for frame in frames where frame.count >= 14 { s.table.learn(MAC(frame, at: 6), at: .peer(header.source), now: now) }
            return header.flags.contains(.broadcast) && relay ? s.broadcastChildren(of: header.source) : []
        }
        for frame in frames where frame.count >= 14 {
            // The frames lie in this thread's own buffers (receive slots, reassembly): the
            // injection may rewrite their checksum field (`OffloadHeader`).
            let writable = UnsafeMutableRawBufferPointer(mutating: frame)
            if let batch {
                if batch.isFull { inject(batch) }
                batch.add(writable)
            } else {
                _ = inject(writable)
            }
            counters.framesReceived.add(1, ordering: .relaxed)
            if frame.count > configuration.mtu + 14 { counters.superFramesReceived.add(1, ordering: .relaxed) }
        }
        for child in children {
            let key = DatagramAssembler.Key(destination: child, source: header.source, broadcast: true, hops: SleeveHeader.maxHops)
            for frame in frames where frame.count >= 14 && assembler.add(frame, key, now: now) {
                counters.framesRelayed.add(1, ordering: .relaxed)
            }
        }
    }

    /// Checks a datagram: header, known sender, seal and replay window. Returns the header and
    /// the opened body, or nil (and counts why). With a password, an unsealed datagram is taken
    /// only from a neighbour both ends trust (`PeerPath.clear`), only from its own underlay
    /// address and port, and only with a counter the replay window has not seen.
    @inline(__always)
    private func open(_ datagram: UnsafeMutableRawBufferPointer, from source: sockaddr_in, now: UInt64)
        -> (SleeveHeader, UnsafeRawBufferPointer)? {
        guard let header = SleeveHeader(from: UnsafeRawBufferPointer(datagram)) else {
            counters.drop(.malformed)
            return nil
        }
        // One look at the sender's path: known, its key, whether it may send unsealed, and the
        // counter not seen before.
        let isSealed = header.flags.contains(.sealed)
        let (known, key, clear, address, unseen): (Bool, AEADKey?, Bool, sockaddr_in, Bool) = state.withLock { s in
            guard let path = s.paths[header.sender] else { return (false, nil, false, sockaddr_in(), false) }
            return (true, path.receiveKey, path.clear, path.address, !configuration.sealed || path.window.check(header.counter))
        }
        guard known else {
            counters.drop(.unknownSender)
            return nil
        }
        // With a password, unsealed datagrams are taken only while both ends trust each other's
        // subnet, and never heartbeats (they carry the trust itself). Without one, nothing is
        // sealed.
        let sealed = configuration.sealed && (isSealed || !clear || header.flags.contains(.heartbeat))
        guard isSealed == sealed else {
            counters.drop(sealed ? .unsealed : .malformed)
            return nil
        }
        if configuration.sealed, !isSealed,
           source.sin_addr.s_addr != address.sin_addr.s_addr || source.sin_port != address.sin_port {
            counters.drop(.spoofedSource)
            return nil
        }
        guard !sealed || key != nil else {
            counters.drop(.unknownSender)
            return nil
        }
        guard unseen else {
            counters.drop(.replayed)
            return nil
        }
        var bodyLength = datagram.count - SleeveHeader.size
        if sealed, let key {
            // The header (and a fragment's header) authenticated, the rest opened in place.
            let clear = SleeveHeader.clearBytes(header.flags)
            guard datagram.count >= clear, let opened = key.openInPlace(datagram.baseAddress! + clear, length: datagram.count - clear,
                                                                         counter: header.counter,
                                                                         additional: UnsafeRawBufferPointer(rebasing: datagram[0..<clear])) else {
                counters.drop(.forged)
                return nil
            }
            bodyLength = clear - SleeveHeader.size + opened
        }
        let body = UnsafeRawBufferPointer(rebasing: datagram[SleeveHeader.size..<(SleeveHeader.size + bodyLength)])
        let fresh = state.withLock { s -> Bool in
            guard var path = s.paths[header.sender] else { return false }
            // Unsealed ones too (with a password they come from a checked address): a replayed
            // clear datagram is no more welcome than a sealed one.
            if configuration.sealed, !path.window.accept(header.counter) { return false }
            path.lastHeard = now
            if header.flags.contains(.heartbeat), body.count >= 3 {
                if body[0] & 1 == 1 { path.theyHearUs = now }
                path.theyTrustUs = body[0] & 2 == 2
                path.probeAcknowledged = Int(body[1]) << 8 | Int(body[2])
                path.probeAcknowledgedAt = now
                // The largest probe of the last 3 s: one as large refreshes it (else it lapsed every
                // 3 s even while probes kept coming, and a report of 0 read as a lost probe).
                if body[0] & 4 == 4, datagram.count >= path.probeReceived || now >= path.probeReceivedAt &+ Sleeve.pathTimeout {
                    path.probeReceived = datagram.count
                    path.probeReceivedAt = now
                }
            }
            s.paths[header.sender] = path
            return true
        }
        guard fresh else {
            counters.drop(.replayed)
            return nil
        }
        return (header, body)
    }
}
