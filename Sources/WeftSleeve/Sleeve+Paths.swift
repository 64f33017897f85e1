import Glibc
import WeftCrypto
import WeftMesh

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
    /// Open datagrams: key → (slot, next hop, body bytes so far).
    private var open: [Key: (slot: Int, hop: PeerName, body: Int)] = [:]
    private var used = 0
    private let capacity: Int

    init(sleeve: Sleeve, slots: Int = 64) {
        self.sleeve = sleeve
        batch = DatagramBatch(capacity: slots)
        capacity = sleeve.bodyCapacity
    }

    /// Adds `frame` for `key`; false when there is no working path towards the destination.
    @inline(__always)
    func add(_ frame: UnsafeRawBufferPointer, _ key: Key, now: UInt64) -> Bool {
        let need = FrameList.encodedSize(frame.count)
        if var d = open[key] {
            if d.body + need <= capacity {
                d.body = FrameList.append(frame, to: bodyOf(d.slot), at: d.body)
                open[key] = d
                return true
            }
            finish(key)
        }
        if used == batch.capacity { flush() }
        guard let hop = sleeve.state.withLock({ sleeve.nextHop(key.destination, in: $0, now: now) }) else { return false }
        let slot = used
        used += 1
        batch.lengths[slot] = 0
        open[key] = (slot, hop, FrameList.append(frame, to: bodyOf(slot), at: 0))
        return true
    }

    /// Seals every open datagram and sends the batch.
    func flush() {
        for key in Array(open.keys) { finish(key) }
        var start = 0
        while start < used {
            // Send runs of sealed datagrams; a slot left at length 0 (its path vanished) is skipped.
            while start < used && batch.lengths[start] == 0 { start += 1 }
            var end = start
            while end < used && batch.lengths[end] > 0 { end += 1 }
            if end > start {
                sleeve.send(batch, from: start, count: end - start)
                sleeve.counters.datagramsSent.add(end - start, ordering: .relaxed)
            }
            start = end
        }
        used = 0
    }

    private func finish(_ key: Key) {
        guard let d = open.removeValue(forKey: key) else { return }
        var flags: SleeveHeader.Flags = []
        if key.broadcast { flags.insert(.broadcast) }
        let slot = batch.slot(d.slot)
        sleeve.state.withLock { s in
            guard var path = s.paths[d.hop],
                  let length = sleeve.seal(slot, bodyLength: d.body, flags: flags, source: key.source,
                                           destination: key.destination, hops: key.hops, path: &path) else { return }
            s.paths[d.hop] = path
            batch.addresses[d.slot] = path.address
            batch.lengths[d.slot] = length
        }
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
        let maxFrame = bodyCapacity - 2
        let answer = UnsafeMutableRawBufferPointer.allocate(byteCount: 128, alignment: 8)
        defer { answer.deallocate() }
        while !isStopped {
            let n = dispatchCaptured { frame in
                guard frame.count >= 14 else { return counters.drop(.malformed) }
                let now = Self.now()
                if frame.count > maxFrame {
                    // Too big for a datagram: tell the sender (ICMP), or count the drop.
                    if let length = FragmentationNeeded.answer(to: frame, mtu: configuration.mtu, into: answer) {
                        _ = inject(UnsafeRawBufferPointer(rebasing: answer[0..<length]))
                        counters.fragmentationNeeded.add(1, ordering: .relaxed)
                    } else {
                        counters.drop(.tooBig)
                    }
                    return
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
        }
    }

    enum Targets {
        case none
        case one(PeerName)
        case tree([PeerName])
    }

    /// The receive thread: datagrams are checked, opened, and their frames injected into the
    /// bridge (and passed on down the source's tree), or relayed towards their destination.
    func receiveLoop() {
        let batch = DatagramBatch(capacity: 64)
        let assembler = DatagramAssembler(sleeve: self)
        let me = configuration.me
        while !isStopped {
            let n = receive(into: batch)
            guard n > 0 else { continue }
            counters.datagramsReceived.add(n, ordering: .relaxed)
            let now = Self.now()
            for i in 0..<n {
                let datagram = UnsafeMutableRawBufferPointer(rebasing: batch.slot(i)[0..<batch.lengths[i]])
                guard let body = open(datagram, now: now) else { continue }
                let (header, frames) = body
                if header.flags.contains(.heartbeat) { continue }
                guard !FrameList(frames).isMalformed else { counters.drop(.malformed); continue }
                if header.destination == me {
                    let children: [PeerName] = state.withLock { s in
                        for frame in FrameList(frames) { s.table.learn(MAC(frame, at: 6), at: .peer(header.source), now: now) }
                        return header.flags.contains(.broadcast) ? s.broadcastChildren(of: header.source) : []
                    }
                    for frame in FrameList(frames) {
                        _ = inject(frame)
                        counters.framesReceived.add(1, ordering: .relaxed)
                    }
                    for child in children {
                        let key = DatagramAssembler.Key(destination: child, source: header.source, broadcast: true,
                                                        hops: SleeveHeader.maxHops)
                        for frame in FrameList(frames) where assembler.add(frame, key, now: now) {
                            counters.framesRelayed.add(1, ordering: .relaxed)
                        }
                    }
                } else {
                    guard header.hops > 1 else { counters.drop(.hopLimit); continue }
                    let key = DatagramAssembler.Key(destination: header.destination, source: header.source,
                                                    broadcast: header.flags.contains(.broadcast), hops: header.hops - 1)
                    for frame in FrameList(frames) {
                        if assembler.add(frame, key, now: now) {
                            counters.framesRelayed.add(1, ordering: .relaxed)
                        } else {
                            counters.drop(.noRoute)
                        }
                    }
                }
            }
            assembler.flush()
        }
    }

    /// Checks a datagram: header, known sender, seal and replay window. Returns the header and
    /// the opened body, or nil (and counts why).
    @inline(__always)
    private func open(_ datagram: UnsafeMutableRawBufferPointer, now: UInt64)
        -> (SleeveHeader, UnsafeRawBufferPointer)? {
        guard let header = SleeveHeader(from: UnsafeRawBufferPointer(datagram)) else {
            counters.drop(.malformed)
            return nil
        }
        let sealed = configuration.sealed
        guard header.flags.contains(.sealed) == sealed else {
            counters.drop(sealed ? .unsealed : .malformed)
            return nil
        }
        // One look at the sender's path: known, its key, and the counter not seen before.
        let (known, key, unseen): (Bool, AEADKey?, Bool) = state.withLock { s in
            guard let path = s.paths[header.sender] else { return (false, nil, false) }
            return (true, path.receiveKey, !sealed || path.window.check(header.counter))
        }
        guard known, !sealed || key != nil else {
            counters.drop(.unknownSender)
            return nil
        }
        guard unseen else {
            counters.drop(.replayed)
            return nil
        }
        var bodyLength = datagram.count - SleeveHeader.size
        if sealed, let key {
            guard let opened = key.openInPlace(datagram.baseAddress! + SleeveHeader.size, length: bodyLength,
                                               counter: header.counter,
                                               additional: UnsafeRawBufferPointer(rebasing: datagram[0..<SleeveHeader.size])) else {
                counters.drop(.forged)
                return nil
            }
            bodyLength = opened
        }
        let body = UnsafeRawBufferPointer(rebasing: datagram[SleeveHeader.size..<(SleeveHeader.size + bodyLength)])
        let fresh = state.withLock { s -> Bool in
            guard var path = s.paths[header.sender] else { return false }
            if sealed, !path.window.accept(header.counter) { return false }
            path.lastHeard = now
            if header.flags.contains(.heartbeat), body.count >= 1, body[0] & 1 == 1 { path.theyHearUs = now }
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
