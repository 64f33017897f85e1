public import NIOCore
public import WeftTypes

/// Bounded readers and writers for the mesh wire formats. Every read checks the remaining length
/// first and throws `WireError` instead of trapping; every variable length has a cap.
extension ByteBuffer {
    @inlinable
    public mutating func readWireInteger<T: FixedWidthInteger>(as: T.Type = T.self) throws(WireError) -> T {
        guard let v = readInteger(endianness: .big, as: T.self) else { throw .truncated }
        return v
    }

    /// A peer name as 6 bytes, big-endian.
    public mutating func readPeerName() throws(WireError) -> PeerName {
        let hi: UInt16 = try readWireInteger()
        let lo: UInt32 = try readWireInteger()
        return PeerName(rawValue: UInt64(hi) << 32 | UInt64(lo))
    }

    public mutating func writePeerName(_ name: PeerName) {
        writeInteger(UInt16(truncatingIfNeeded: name.rawValue >> 32), endianness: .big)
        writeInteger(UInt32(truncatingIfNeeded: name.rawValue), endianness: .big)
    }

    /// A UTF-8 string with a 16-bit length, at most `limit` bytes.
    public mutating func readWireString(field: String, limit: Int = 1024) throws(WireError) -> String {
        let length = Int(try readWireInteger(as: UInt16.self))
        guard length <= limit else { throw .tooLong(field: field, length: length, limit: limit) }
        return try readValidUTF8(length: length, field: field)
    }

    /// `length` bytes that must be valid UTF-8 (repairing them would change what the sender
    /// signed off on and what a re-encoding produces).
    public mutating func readValidUTF8(length: Int, field: String) throws(WireError) -> String {
        guard let bytes = readBytes(length: length) else { throw .truncated }
        guard let s = String(validating: bytes, as: UTF8.self) else { throw .invalid("UTF-8 in \(field)") }
        return s
    }

    /// Writes a string with a 16-bit length; longer strings are cut at the 16-bit limit (callers
    /// validate lengths where it matters, such as nicknames at launch).
    public mutating func writeWireString(_ s: String) {
        var bytes = Array(s.utf8)
        if bytes.count > Int(UInt16.max) { bytes = Array(bytes.prefix(Int(UInt16.max))) }
        writeInteger(UInt16(bytes.count), endianness: .big)
        writeBytes(bytes)
    }

    /// A count (32-bit) that must not exceed `limit`, nor promise more elements than the bytes
    /// left could hold at `minElementSize` each: a hostile count cannot make us allocate.
    public mutating func readWireCount(field: String, limit: Int, minElementSize: Int = 1) throws(WireError) -> Int {
        let n = Int(try readWireInteger(as: UInt32.self))
        guard n <= limit else { throw .tooLong(field: field, length: n, limit: limit) }
        guard n * minElementSize <= readableBytes else { throw .truncated }
        return n
    }

    /// Bytes with a 32-bit length, at most `limit`.
    public mutating func readWireBytes(field: String, limit: Int) throws(WireError) -> ByteBuffer {
        let length = Int(try readWireInteger(as: UInt32.self))
        guard length <= limit else { throw .tooLong(field: field, length: length, limit: limit) }
        guard let b = readSlice(length: length) else { throw .truncated }
        return b
    }
}

extension ByteBuffer {
    /// Reads a version (u64) and refuses one above `VersionLimit.maximum`, which a merge's
    /// "+ 1" would overflow.
    public mutating func readWireVersion(field: String) throws(WireError) -> UInt64 {
        let version: UInt64 = try readWireInteger()
        guard VersionLimit.accepts(version) else { throw .invalid("\(field) \(version) is beyond the version limit") }
        return version
    }
}
