/// The frames of a datagram body: each a u16 length, then the frame. Iterating never reads
/// past the body: a length that overruns it ends the list (and `isMalformed` says so).
public struct FrameList: Sequence {
    public let body: UnsafeRawBufferPointer

    public init(_ body: UnsafeRawBufferPointer) { self.body = body }

    /// Bytes one frame takes in a body.
    @inline(__always)
    public static func encodedSize(_ frameLength: Int) -> Int { 2 + frameLength }

    /// Appends `frame` at `offset` of `out`; returns the new offset.
    @inline(__always)
    public static func append(_ frame: UnsafeRawBufferPointer, to out: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        out[offset] = UInt8(frame.count >> 8)
        out[offset + 1] = UInt8(frame.count & 0xFF)
        if let src = frame.baseAddress, frame.count > 0 {
            (out.baseAddress! + offset + 2).copyMemory(from: src, byteCount: frame.count)
        }
        return offset + 2 + frame.count
    }

    /// True when the lengths do not add up to the body exactly, or a frame is shorter than an
    /// Ethernet header.
    public var isMalformed: Bool {
        var offset = 0
        while offset < body.count {
            guard offset + 2 <= body.count else { return true }
            let n = Int(body[offset]) << 8 | Int(body[offset + 1])
            guard n >= 14, offset + 2 + n <= body.count else { return true }
            offset += 2 + n
        }
        return false
    }

    public struct Iterator: IteratorProtocol {
        let body: UnsafeRawBufferPointer
        var offset = 0

        public mutating func next() -> UnsafeRawBufferPointer? {
            guard offset + 2 <= body.count else { return nil }
            let n = Int(body[offset]) << 8 | Int(body[offset + 1])
            guard offset + 2 + n <= body.count else { return nil }
            defer { offset += 2 + n }
            return UnsafeRawBufferPointer(rebasing: body[(offset + 2)..<(offset + 2 + n)])
        }
    }

    public func makeIterator() -> Iterator { Iterator(body: body) }
}
