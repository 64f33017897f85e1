import WeftTypes

/// A bounds-checked cursor over a DNS message, with name decompression.
struct DNSReader {
    let bytes: UnsafeRawBufferPointer
    private(set) var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }

    mutating func u8() throws(DNSWireError) -> UInt8 {
        guard remaining >= 1 else { throw .truncated }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16() throws(DNSWireError) -> UInt16 {
        guard remaining >= 2 else { throw .truncated }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    mutating func u32() throws(DNSWireError) -> UInt32 {
        UInt32(try u16()) << 16 | UInt32(try u16())
    }

    mutating func bytes(_ count: Int) throws(DNSWireError) -> [UInt8] {
        guard count >= 0, remaining >= count else { throw .truncated }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    /// Reads a name at the cursor, following compression pointers. A pointer must point before
    /// the label it replaces (so no loop is possible), and the name must stay within 255 bytes.
    mutating func name() throws(DNSWireError) -> DNSName {
        var wire: [UInt8] = []
        wire.reserveCapacity(32)
        var at = offset
        var resumeAt: Int? = nil
        while true {
            guard at < bytes.count else { throw .truncated }
            let length = Int(bytes[at])
            switch length & 0xC0 {
            case 0x00:
                if length == 0 {
                    wire.append(0)
                    offset = resumeAt ?? at + 1
                    return DNSName(trustedWire: wire)
                }
                guard at + 1 + length <= bytes.count else { throw .truncated }
                guard wire.count + 1 + length + 1 <= DNSName.maxLength else { throw .invalid("name longer than 255 bytes") }
                wire.append(UInt8(length))
                wire += bytes[(at + 1)..<(at + 1 + length)]
                at += 1 + length
            case 0xC0:
                guard at + 1 < bytes.count else { throw .truncated }
                let target = (length & 0x3F) << 8 | Int(bytes[at + 1])
                guard target < at else { throw .invalid("compression pointer that does not point backwards") }
                if resumeAt == nil { resumeAt = at + 2 }
                at = target
            default:
                throw .invalid("label type \(length >> 6)")
            }
        }
    }
}

/// Builds a message, compressing each name against the names (and their suffixes) already
/// written (RFC 1035 §4.1.4). Matching is exact, case included, so a name decodes with the case
/// it was written in (a query's 0x20 mixed case survives in the answers that repeat it).
struct DNSWriter {
    var bytes: [UInt8] = []
    /// Suffixes written so far (as in the names given) and where they start: a short list
    /// compared byte for byte, cheaper for the few names of a message than hashing each suffix.
    private var suffixes: [(name: ArraySlice<UInt8>, at: Int)] = []
    /// Beyond this many suffixes new ones are written whole (still correct, less compressed).
    static let maxSuffixes = 64

    init() { bytes.reserveCapacity(512) }

    mutating func u16(_ v: UInt16) {
        bytes.append(UInt8(v >> 8))
        bytes.append(UInt8(v & 0xFF))
    }

    mutating func u32(_ v: UInt32) {
        u16(UInt16(v >> 16))
        u16(UInt16(v & 0xFFFF))
    }

    mutating func name(_ name: DNSName) {
        let key = name.wire
        var i = 0
        while key[i] != 0 {
            let suffix = key[i...]
            if let known = suffixes.first(where: { $0.name.count == suffix.count && $0.name.elementsEqual(suffix) }) {
                bytes += name.wire[..<i]
                u16(0xC000 | UInt16(known.at))
                return
            }
            if bytes.count + i < 0x4000, suffixes.count < Self.maxSuffixes { suffixes.append((suffix, bytes.count + i)) }
            i += Int(key[i]) + 1
        }
        bytes += name.wire
    }
}
