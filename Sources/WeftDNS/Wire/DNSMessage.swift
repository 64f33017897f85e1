public import WeftMesh
public import WeftTypes

/// A DNS message (RFC 1035 §4): header, questions and the three record sections. Decoding
/// treats the bytes as hostile (every length checked, compression pointers only backwards,
/// names capped at 255 bytes); encoding compresses names.
public struct DNSMessage: Equatable, Sendable {
    public var id: UInt16
    /// QR, opcode, AA, TC, RD, RA, Z and the response code, as on the wire.
    public var flags: UInt16
    public var questions: [DNSQuestion]
    public var answers: [DNSResourceRecord]
    public var authorities: [DNSResourceRecord]
    public var additionals: [DNSResourceRecord]

    public init(id: UInt16, flags: UInt16, questions: [DNSQuestion] = [], answers: [DNSResourceRecord] = [],
                authorities: [DNSResourceRecord] = [], additionals: [DNSResourceRecord] = []) {
        self.id = id
        self.flags = flags
        self.questions = questions
        self.answers = answers
        self.authorities = authorities
        self.additionals = additionals
    }

    public static let headerSize = 12

    // MARK: flags

    public static let qr: UInt16 = 0x8000
    public static let aa: UInt16 = 0x0400
    public static let tc: UInt16 = 0x0200
    public static let rd: UInt16 = 0x0100
    public static let ra: UInt16 = 0x0080

    public var isResponse: Bool { flags & Self.qr != 0 }
    public var isTruncated: Bool { flags & Self.tc != 0 }
    public var opcode: UInt16 { flags >> 11 & 0xF }
    public var rcode: DNSResponseCode { DNSResponseCode(rawValue: flags & 0xF) }

    /// The UDP payload size an EDNS0 OPT record (RFC 6891) advertises; nil without one.
    public var ednsPayloadSize: Int? {
        additionals.first { $0.type == .opt }.map { Int($0.dnsClass) }
    }

    // MARK: decoding

    /// Bounds on what the decoder accepts (a UDP message cannot hold more; TCP ones are capped
    /// by their 16-bit length anyway).
    static let maxRecords = 4096

    /// Decodes a whole message; throws `DNSWireError` on anything malformed, never traps.
    public init(decoding bytes: UnsafeRawBufferPointer) throws(DNSWireError) {
        var r = DNSReader(bytes)
        id = try r.u16()
        flags = try r.u16()
        let counts = [try r.u16(), try r.u16(), try r.u16(), try r.u16()].map(Int.init)
        // A question takes at least 5 bytes, a record at least 11: counts the bytes cannot hold
        // are refused before anything is allocated for them.
        guard counts[0] * 5 + (counts[1] + counts[2] + counts[3]) * 11 <= r.remaining else { throw .truncated }
        questions = []
        questions.reserveCapacity(counts[0])
        for _ in 0..<counts[0] {
            questions.append(DNSQuestion(name: try r.name(), type: DNSType(rawValue: try r.u16()), dnsClass: try r.u16()))
        }
        answers = try Self.records(counts[1], &r)
        authorities = try Self.records(counts[2], &r)
        additionals = try Self.records(counts[3], &r)
    }

    /// Decodes `bytes`; convenience for tests and tools.
    public init(decoding bytes: [UInt8]) throws(DNSWireError) {
        let result: Result<DNSMessage, DNSWireError> = bytes.withUnsafeBytes { raw in
            do throws(DNSWireError) { return .success(try DNSMessage(decoding: raw)) } catch { return .failure(error) }
        }
        self = try result.get()
    }

    private static func records(_ count: Int, _ r: inout DNSReader) throws(DNSWireError) -> [DNSResourceRecord] {
        var list: [DNSResourceRecord] = []
        list.reserveCapacity(count)
        for _ in 0..<count {
            let name = try r.name()
            let type = DNSType(rawValue: try r.u16())
            let dnsClass = try r.u16()
            let ttl = try r.u32()
            let length = Int(try r.u16())
            guard length <= r.remaining else { throw .truncated }
            let end = r.offset + length
            let data: DNSRecordData
            switch type {
            case .a:
                guard length == 4 else { throw .invalid("A record of \(length) bytes") }
                data = .a(try r.u32())
            case .ptr, .cname, .ns:
                data = .name(try r.name())
                guard r.offset == end else { throw .invalid("name data of \(type) overruns its length") }
            default:
                data = .raw(try r.bytes(length))
            }
            list.append(DNSResourceRecord(name: name, type: type, dnsClass: dnsClass, ttl: ttl, data: data))
        }
        return list
    }

    // MARK: encoding

    /// The wire form, names compressed. When it would exceed `limit` bytes, the answer,
    /// authority and non-OPT additional records are left out and TC is set (RFC 2181 §9),
    /// so a UDP client asks again over TCP.
    public func encoded(limit: Int = 65535) -> [UInt8] {
        var w = DNSWriter()
        write(into: &w, flags: flags, sections: [answers, authorities, additionals])
        if w.bytes.count <= limit { return w.bytes }
        var short = DNSWriter()
        write(into: &short, flags: flags | Self.tc, sections: [[], [], additionals.filter { $0.type == .opt }])
        return short.bytes
    }

    private func write(into w: inout DNSWriter, flags: UInt16, sections: [[DNSResourceRecord]]) {
        w.u16(id)
        w.u16(flags)
        w.u16(UInt16(questions.count))
        for s in sections { w.u16(UInt16(s.count)) }
        for q in questions {
            w.name(q.name)
            w.u16(q.type.rawValue)
            w.u16(q.dnsClass)
        }
        for section in sections {
            for rr in section {
                w.name(rr.name)
                w.u16(rr.type.rawValue)
                w.u16(rr.dnsClass)
                w.u32(rr.ttl)
                let lengthAt = w.bytes.count
                w.u16(0)
                switch rr.data {
                case let .a(address): w.u32(address)
                case let .name(name): w.name(name)
                case let .raw(bytes): w.bytes += bytes
                }
                let length = w.bytes.count - lengthAt - 2
                w.bytes[lengthAt] = UInt8(length >> 8)
                w.bytes[lengthAt + 1] = UInt8(length & 0xFF)
            }
        }
    }
}

/// One question: a name, a type and a class (IN is 1).
public struct DNSQuestion: Equatable, Sendable {
    public var name: DNSName
    public var type: DNSType
    public var dnsClass: UInt16

    public init(name: DNSName, type: DNSType, dnsClass: UInt16 = 1) {
        self.name = name
        self.type = type
        self.dnsClass = dnsClass
    }
}

/// A resource record. Names inside the data of PTR, CNAME and NS are decoded (they may be
/// compressed); the data of other types is kept as bytes.
public struct DNSResourceRecord: Equatable, Sendable {
    public var name: DNSName
    public var type: DNSType
    public var dnsClass: UInt16
    public var ttl: UInt32
    public var data: DNSRecordData

    public init(name: DNSName, type: DNSType, dnsClass: UInt16 = 1, ttl: UInt32, data: DNSRecordData) {
        self.name = name
        self.type = type
        self.dnsClass = dnsClass
        self.ttl = ttl
        self.data = data
    }

    /// An EDNS0 OPT pseudo-record advertising `payloadSize`.
    public static func opt(payloadSize: Int) -> DNSResourceRecord {
        DNSResourceRecord(name: .root, type: .opt, dnsClass: UInt16(clamping: payloadSize), ttl: 0, data: .raw([]))
    }
}

public enum DNSRecordData: Equatable, Sendable {
    case a(UInt32)
    case name(DNSName)
    case raw([UInt8])
}

/// A record type; the ones Weft handles by name, any other by number.
public struct DNSType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let a = DNSType(rawValue: 1)
    public static let ns = DNSType(rawValue: 2)
    public static let cname = DNSType(rawValue: 5)
    public static let soa = DNSType(rawValue: 6)
    public static let ptr = DNSType(rawValue: 12)
    public static let aaaa = DNSType(rawValue: 28)
    public static let opt = DNSType(rawValue: 41)
    public static let any = DNSType(rawValue: 255)

    public var description: String {
        switch self {
        case .a: "A"
        case .ns: "NS"
        case .cname: "CNAME"
        case .soa: "SOA"
        case .ptr: "PTR"
        case .aaaa: "AAAA"
        case .opt: "OPT"
        case .any: "ANY"
        default: "TYPE\(rawValue)"
        }
    }
}

public struct DNSResponseCode: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue & 0xF }

    public static let noError = DNSResponseCode(rawValue: 0)
    public static let formatError = DNSResponseCode(rawValue: 1)
    public static let serverFailure = DNSResponseCode(rawValue: 2)
    public static let nameError = DNSResponseCode(rawValue: 3)
    public static let notImplemented = DNSResponseCode(rawValue: 4)
    public static let refused = DNSResponseCode(rawValue: 5)
}

/// Why bytes are not a DNS message: the wire error every decoder of the project throws.
public typealias DNSWireError = WireError
