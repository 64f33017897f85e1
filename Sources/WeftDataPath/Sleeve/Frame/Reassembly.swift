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
/// last; a piece starting where one already started is a duplicate and ignored.
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
    /// Per slot, one bit per 64-byte unit of the frame: where a piece started.
    private let starts: UnsafeMutablePointer<UInt64>
    static let words = 65536 / 64 / 64

    public init() {
        buffers = .allocate(byteCount: Self.slots * 65536, alignment: 16)
        starts = .allocate(capacity: Self.slots * Self.words)
        starts.initialize(repeating: 0, count: Self.slots * Self.words)
    }

    /// Frees the buffers (the owner calls it once, when done).
    public func deallocate() {
        buffers.deallocate()
        starts.deallocate()
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
            (starts + i * Self.words).update(repeating: 0, count: Self.words)
            index = i
        }
        let i = index!
        let unit = header.offset / 64
        let word = starts + i * Self.words + unit / 64, bit = UInt64(1) << UInt64(unit % 64)
        guard word.pointee & bit == 0 else { return .pending }
        word.pointee |= bit
        entries[i].received += data.count
        guard entries[i].received <= entries[i].total else {
            entries[i].inUse = false  // overlapping pieces: not a frame we can trust
            return .malformed
        }
        let base = buffers + i * 65536
        (base + header.offset).copyMemory(from: data.baseAddress!, byteCount: data.count)
        guard entries[i].received == entries[i].total else { return .pending }
        entries[i].inUse = false
        return .complete(UnsafeRawBufferPointer(start: base, count: entries[i].total))
    }
}
