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
/// Pieces must line up on the `piece` grid the senders use; duplicates are ignored.
public struct Reassembly {
    public static let slots = 32
    static let timeout: UInt64 = 1_000_000_000

    struct Entry {
        var source: UInt64 = 0
        var frameID: UInt32 = 0
        var total = 0
        var received = 0
        var pieces: UInt64 = 0
        var stamp: UInt64 = 0
        var inUse = false
    }

    private var entries = [Entry](repeating: Entry(), count: slots)
    private let buffers: UnsafeMutableRawPointer
    /// The length of every piece but a frame's last.
    public let piece: Int

    public init(piece: Int) {
        self.piece = piece
        buffers = .allocate(byteCount: Self.slots * 65536, alignment: 16)
    }

    /// Frees the buffers (the owner calls it once, when done).
    public func deallocate() { buffers.deallocate() }

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
        let count = (header.total + piece - 1) / piece
        guard header.total >= 14, header.total <= 65535, header.offset % piece == 0, header.offset < header.total,
              count <= 64, data.count == min(piece, header.total - header.offset) else { return .malformed }
        var index = entries.firstIndex { $0.inUse && $0.source == source && $0.frameID == header.frameID }
        if let i = index, entries[i].total != header.total { return .malformed }
        if index == nil {
            // A free slot, a stale one, or the oldest.
            let i = entries.firstIndex { !$0.inUse || now > $0.stamp &+ Self.timeout }
                ?? entries.indices.min { entries[$0].stamp < entries[$1].stamp }!
            entries[i] = Entry(source: source, frameID: header.frameID, total: header.total, stamp: now, inUse: true)
            index = i
        }
        let i = index!
        let bit = UInt64(1) << UInt64(header.offset / piece)
        guard entries[i].pieces & bit == 0 else { return .pending }
        entries[i].pieces |= bit
        entries[i].received += data.count
        let base = buffers + i * 65536
        (base + header.offset).copyMemory(from: data.baseAddress!, byteCount: data.count)
        guard entries[i].received == entries[i].total else { return .pending }
        entries[i].inUse = false
        return .complete(UnsafeRawBufferPointer(start: base, count: entries[i].total))
    }
}
