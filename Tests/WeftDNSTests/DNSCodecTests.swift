import Testing
import WeftDNS
import WeftTypes

@Suite struct DNSCodecTests {
    static let name = DNSName("c1.weft.local.")!

    /// A message with every kind of record survives encoding and decoding unchanged.
    @Test func roundTrip() throws {
        let m = DNSMessage(id: 0xBEEF, flags: DNSMessage.qr | DNSMessage.aa,
                           questions: [DNSQuestion(name: Self.name, type: .a)],
                           answers: [DNSResourceRecord(name: Self.name, type: .a, ttl: 30, data: .a(0x0A20_0001)),
                                     DNSResourceRecord(name: DNSName(reverse: 0x0A20_0001), type: .ptr, ttl: 30, data: .name(Self.name))],
                           authorities: [DNSResourceRecord(name: Self.name, type: .aaaa, ttl: 1, data: .raw(Array(repeating: 7, count: 16)))],
                           additionals: [.opt(payloadSize: 1232)])
        let decoded = try DNSMessage(decoding: m.encoded())
        #expect(decoded == m)
        #expect(decoded.ednsPayloadSize == 1232)
    }

    /// Repeated names are written once and pointed at; names compare case-insensitively.
    @Test func compression() throws {
        let records = (1...10).map { DNSResourceRecord(name: DNSName("c1.weft.local.")!, type: .a, ttl: 1, data: .a(UInt32($0))) }
        let m = DNSMessage(id: 1, flags: DNSMessage.qr, questions: [DNSQuestion(name: Self.name, type: .a)], answers: records)
        let bytes = m.encoded()
        // Header 12 + question 19 + 10 answers of a 2-byte pointer and 14 bytes each.
        #expect(bytes.count == 12 + 19 + 10 * 16)
        let decoded = try DNSMessage(decoding: bytes)
        #expect(decoded.answers.allSatisfy { $0.name == Self.name })
        // Another case is written out, not pointed at, so it decodes as written.
        let mixed = DNSMessage(id: 1, flags: 0, questions: [DNSQuestion(name: Self.name, type: .a),
                                                            DNSQuestion(name: DNSName("C1.weft.local")!, type: .a)])
        #expect(try DNSMessage(decoding: mixed.encoded()) == mixed)
        #expect(DNSName("C1.WEFT.local")!.lowercased == Self.name)
    }

    /// Suffix compression: a name below an already written one points into it.
    @Test func suffixCompression() throws {
        let m = DNSMessage(id: 1, flags: 0, questions: [DNSQuestion(name: Self.name, type: .a),
                                                        DNSQuestion(name: DNSName("c2.weft.local")!, type: .a)])
        let bytes = m.encoded()
        #expect(bytes.count == 12 + 19 + (3 + 2 + 4))
        #expect(try DNSMessage(decoding: bytes) == m)
    }

    /// Truncation keeps the question and the OPT record and sets TC.
    @Test func truncation() throws {
        let answers = (0..<100).map { DNSResourceRecord(name: Self.name, type: .a, ttl: 1, data: .a(UInt32($0))) }
        let m = DNSMessage(id: 9, flags: DNSMessage.qr, questions: [DNSQuestion(name: Self.name, type: .a)],
                           answers: answers, additionals: [.opt(payloadSize: 4096)])
        let short = try DNSMessage(decoding: m.encoded(limit: 512))
        #expect(short.isTruncated && short.answers.isEmpty && short.questions == m.questions && short.ednsPayloadSize == 4096)
        #expect(m.encoded().count > 512)
    }

    /// Hostile input: loops, forward pointers, overlong names, lying counts and lengths are refused.
    @Test func hostileInput() throws {
        let header: [UInt8] = [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
        // A pointer to itself, and one pointing forward.
        #expect(throws: DNSWireError.self) { try DNSMessage(decoding: header + [0xC0, 12, 0, 1, 0, 1]) }
        #expect(throws: DNSWireError.self) { try DNSMessage(decoding: header + [0xC0, 14, 0, 1, 0, 1]) }
        // Questions whose names point at the one before, each 64 bytes longer: the fourth is over 255.
        var chain: [UInt8] = [0, 1, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0]
        var previous = chain.count
        chain += [63] + Array(repeating: 0x61, count: 63) + [0, 0, 1, 0, 1]
        for _ in 0..<3 {
            let here = chain.count
            chain += [63] + Array(repeating: 0x62, count: 63) + [0xC0 | UInt8(previous >> 8), UInt8(previous & 0xFF), 0, 1, 0, 1]
            previous = here
        }
        var three = Array(chain.prefix(chain.count - 70))
        three[5] = 3
        #expect(try DNSMessage(decoding: three).questions.last?.name.wire.count == 193)
        #expect(throws: DNSWireError.self) { try DNSMessage(decoding: chain) }
        // 65535 questions promised in 20 bytes; a record longer than the message; label type 01.
        #expect(throws: DNSWireError.self) { try DNSMessage(decoding: [0, 1, 0, 0, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1]) }
        #expect(throws: DNSWireError.self) {
            try DNSMessage(decoding: [0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0xFF, 0xFF])
        }
        #expect(throws: DNSWireError.self) { try DNSMessage(decoding: header + [0x41, 0, 0, 1, 0, 1]) }
        #expect(throws: DNSWireError.self) { try DNSMessage(decoding: Array(header.prefix(11))) }
    }

    /// Random bytes never trap the decoder, and what decodes re-encodes to something that
    /// decodes the same.
    @Test func randomBytes() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            var bytes: [UInt8] = [0, 1, 0, 0, 0, UInt8.random(in: 0...2, using: &rng), 0, UInt8.random(in: 0...2, using: &rng), 0, 0, 0, 1]
            bytes += (0..<Int.random(in: 0...80, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if let m = try? DNSMessage(decoding: bytes) {
                #expect((try? DNSMessage(decoding: m.encoded())) == m)
            }
        }
    }

    /// Names: text, labels, subdomains at label boundaries, reverse names.
    @Test func names() {
        #expect(DNSName("c1.weft.local")?.description == "c1.weft.local.")
        #expect(DNSName("a..b") == nil)
        #expect(DNSName(String(repeating: "a", count: 64) + ".local") == nil)
        #expect(DNSName(Array(repeating: "abcdefghi", count: 26).joined(separator: ".")) == nil)
        let domain = DNSName("weft.local.")!
        #expect(DNSName("C1.WEFT.LOCAL")!.isSubdomain(of: domain))
        #expect(!DNSName("c1.xweft.local")!.isSubdomain(of: domain))
        #expect(domain.isSubdomain(of: domain))
        #expect(DNSName("c1")!.appending(domain) == DNSName("c1.weft.local"))
        #expect(DNSName(reverse: 0x0A20_0102).description == "2.1.32.10.in-addr.arpa.")
        #expect(DNSName("2.1.32.10.in-addr.arpa")?.reverseAddress == 0x0A20_0102)
        #expect(DNSName("2.1.32.010.in-addr.arpa")?.reverseAddress == nil)
        #expect(DNSName("1.32.10.in-addr.arpa")?.reverseAddress == nil)
        #expect(DNSName(validatingWire: [1, 0x61, 0, 0]) == nil)
        #expect(DNSName(validatingWire: [1, 0x61, 0]) == DNSName("a"))
    }
}
