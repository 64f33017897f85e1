/// The start of a fragment's body: which frame (numbered by its source), where this piece goes,
/// and the whole frame's length (8 bytes, big-endian).
public struct FragmentHeader: Equatable, Sendable {
    public static let size = 8
    public var frameID: UInt32
    public var offset: Int
    public var total: Int

    public init(frameID: UInt32, offset: Int, total: Int) {
        self.frameID = frameID
        self.offset = offset
        self.total = total
    }

    public func write(to out: UnsafeMutableRawBufferPointer) {
        SleeveHeader.put(UInt64(frameID), 4, out, 0)
        SleeveHeader.put(UInt64(offset), 2, out, 4)
        SleeveHeader.put(UInt64(total), 2, out, 6)
    }

    public init?(from body: UnsafeRawBufferPointer) {
        guard body.count > Self.size else { return nil }
        frameID = UInt32(SleeveHeader.get(body, 0, 4))
        offset = Int(SleeveHeader.get(body, 4, 2))
        total = Int(SleeveHeader.get(body, 6, 2))
    }
}

/// Puts fragmented frames back together: a fixed set of 64 KiB buffers, reused; a frame whose
/// pieces do not all arrive within a second is given up (its buffer taken by the next one).
/// Pieces may have any size (a sender cuts them to the path's MTU), at least 64 bytes but the
/// last. Which bytes arrived is kept exactly (a bit per byte): a piece that covers only bytes
/// already there is a duplicate and ignored; one that overlaps what is there in part gives the
/// frame up (two overlapping pieces could otherwise add up to the total and leave a gap of
/// stale memory in a "complete" frame).
public struct Reassembly {
    public static let slots = 32
    static let timeout: UInt64 = 1_000_000_000

    struct Entry {
        var source: UInt64 = 0
        var frameID: UInt32 = 0
        var total = 0
        var received = 0
        var stamp: UInt64 = 0
        var inUse = false
    }

    private var entries = [Entry](repeating: Entry(), count: slots)
    private let buffers: UnsafeMutableRawPointer
    /// Per slot, one bit per byte of the frame: which bytes have arrived.
    private let covered: UnsafeMutablePointer<UInt64>
    static let words = 65536 / 64

    public init() {
        buffers = .allocate(byteCount: Self.slots * 65536, alignment: 16)
        covered = .allocate(capacity: Self.slots * Self.words)
        covered.initialize(repeating: 0, count: Self.slots * Self.words)
    }

    /// Frees the buffers (the owner calls it once, when done).
    public func deallocate() {
        buffers.deallocate()
        covered.deallocate()
    }

    /// How much of bytes `from..<to` of a slot's bitmap was set before: none, some, or all.
    private enum Coverage { case none, some, all }

    /// Marks bytes `from..<to` in one pass and says how many were marked already (what a
    /// partial overlap leaves marked does not matter: that frame is given up).
    private func mark(_ bitmap: UnsafeMutablePointer<UInt64>, _ from: Int, _ to: Int) -> Coverage {
        var any = false, all = true
        var b = from
        while b < to {
            let lo = b & 63, n = min(64 - lo, to - b)
            let mask: UInt64 = n == 64 ? ~0 : ((1 << UInt64(n)) - 1) << UInt64(lo)
            let bits = bitmap[b >> 6] & mask
            if bits != 0 { any = true }
            if bits != mask { all = false }
            bitmap[b >> 6] |= mask
            b += n
        }
        return all ? .all : any ? .some : .none
    }

    public enum Result {
        /// Stored; more pieces to come.
        case pending
        /// The whole frame (valid until the next call).
        case complete(UnsafeRawBufferPointer)
        /// Inconsistent with itself or with the pieces before it.
        case malformed
    }

    /// Adds the piece of `source`'s frame described by `header`.
    public mutating func add(_ header: FragmentHeader, data: UnsafeRawBufferPointer, source: UInt64, now: UInt64) -> Result {
        let last = header.offset + data.count == header.total
        guard header.total >= 14, header.offset < header.total, header.offset + data.count <= header.total,
              data.count >= 64 || (last && data.count > 0) else { return .malformed }
        var index = entries.firstIndex { $0.inUse && $0.source == source && $0.frameID == header.frameID }
        if let i = index, entries[i].total != header.total { return .malformed }
        if index == nil {
            // A free slot, a stale one, or the oldest.
            let i = entries.firstIndex { !$0.inUse || now > $0.stamp &+ Self.timeout }
                ?? entries.indices.min { entries[$0].stamp < entries[$1].stamp }!
            entries[i] = Entry(source: source, frameID: header.frameID, total: header.total, stamp: now, inUse: true)
            (covered + i * Self.words).update(repeating: 0, count: (header.total + 63) >> 6)  // the frame's bytes only
            index = i
        }
        guard let i = index else { return .malformed }
        let bitmap = covered + i * Self.words
        switch mark(bitmap, header.offset, header.offset + data.count) {
        case .all: return .pending  // a duplicate
        case .some:
            entries[i].inUse = false  // overlapping pieces: not a frame we can trust
            return .malformed
        case .none: break
        }
        entries[i].received += data.count
        let base = buffers + i * 65536
        (base + header.offset).copyMemory(from: data.baseAddress!, byteCount: data.count)
        guard entries[i].received == entries[i].total else { return .pending }
        entries[i].inUse = false
        return .complete(UnsafeRawBufferPointer(start: base, count: entries[i].total))
    }
}
