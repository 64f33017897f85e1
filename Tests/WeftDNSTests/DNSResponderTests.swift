import Testing
import WeftDNS
import WeftMesh
import WeftTypes

@Suite struct DNSResponderTests {
    static let responder = DNSResponder(domain: DNSName("weft.local.")!, ttl: 1, overlay: (0x0A20_0000, 1 << 20))

    static func store() -> DNSStore {
        var s = DNSStore(me: PeerName(rawValue: 1))
        for (i, a) in [0x0A20_0001, 0x0A20_0002, 0x0A20_0003].enumerated() {
            _ = s.add(hostname: DNSName("web.weft.local")!, address: UInt32(a), containerID: "c\(i)", now: 0)
        }
        return s
    }

    static func ask(_ name: String, _ type: DNSType, rotation: Int = 0, opt: Bool = false) -> DNSResponder.Outcome {
        let q = DNSMessage(id: 42, flags: DNSMessage.rd, questions: [DNSQuestion(name: DNSName(name)!, type: type)],
                           additionals: opt ? [.opt(payloadSize: 1232)] : [])
        return responder.respond(to: q, store: store(), rotation: rotation)
    }

    static func answer(_ outcome: DNSResponder.Outcome) -> DNSMessage? {
        if case let .answer(m) = outcome { return m }
        return nil
    }

    /// Every address of a name, any case, each turn starting with the next one.
    @Test func rotatingAnswers() throws {
        let first = try #require(Self.answer(Self.ask("WEB.weft.local", .a, rotation: 0)))
        let second = try #require(Self.answer(Self.ask("web.weft.local", .a, rotation: 1)))
        #expect(first.answers.map(\.data) == [.a(0x0A20_0001), .a(0x0A20_0002), .a(0x0A20_0003)])
        #expect(second.answers.map(\.data) == [.a(0x0A20_0002), .a(0x0A20_0003), .a(0x0A20_0001)])
        #expect(first.id == 42 && first.rcode == .noError && first.flags & DNSMessage.aa != 0 && first.flags & DNSMessage.rd != 0)
        #expect(first.answers[0].ttl == 1)
    }

    /// Unknown names in the domain: NXDOMAIN; other types of known names: empty, no error.
    @Test func missingNamesAndOtherTypes() throws {
        #expect(try #require(Self.answer(Self.ask("nope.weft.local", .a))).rcode == .nameError)
        let aaaa = try #require(Self.answer(Self.ask("web.weft.local", .aaaa)))
        #expect(aaaa.rcode == .noError && aaaa.answers.isEmpty)
    }

    /// Reverse lookups: names of an overlay address; NXDOMAIN for an unknown one in the range;
    /// forwarded outside it. Names outside the domain are forwarded.
    @Test func reverseAndForward() throws {
        let ptr = try #require(Self.answer(Self.ask("2.0.32.10.in-addr.arpa", .ptr)))
        #expect(ptr.answers.map(\.data) == [.name(DNSName("web.weft.local")!)])
        #expect(try #require(Self.answer(Self.ask("9.0.32.10.in-addr.arpa", .ptr))).rcode == .nameError)
        #expect(Self.ask("1.1.168.192.in-addr.arpa", .ptr) == .forward)
        #expect(Self.ask("example.org", .a) == .forward)
    }

    /// EDNS0: the answer carries OPT when the query did, and the UDP limit follows it.
    @Test func edns() throws {
        let m = try #require(Self.answer(Self.ask("web.weft.local", .a, opt: true)))
        #expect(m.ednsPayloadSize == DNSResponder.maxUDPPayload)
        let q = DNSMessage(id: 1, flags: 0, additionals: [.opt(payloadSize: 1232)])
        #expect(DNSResponder.udpLimit(for: q) == 1232)
        #expect(DNSResponder.udpLimit(for: DNSMessage(id: 1, flags: 0)) == 512)
        #expect(DNSResponder.udpLimit(for: DNSMessage(id: 1, flags: 0, additionals: [.opt(payloadSize: 100)])) == 512)
    }

    /// Responses are dropped, other opcodes get NOTIMP, several questions FORMERR.
    @Test func oddQueries() throws {
        let s = Self.store()
        #expect(Self.responder.respond(to: DNSMessage(id: 1, flags: DNSMessage.qr), store: s, rotation: 0) == .drop)
        let notify = Self.responder.respond(to: DNSMessage(id: 1, flags: 4 << 11), store: s, rotation: 0)
        #expect(Self.answer(notify)?.rcode == .notImplemented)
        let two = DNSMessage(id: 1, flags: 0, questions: [DNSQuestion(name: .root, type: .a), DNSQuestion(name: .root, type: .a)])
        #expect(Self.answer(Self.responder.respond(to: two, store: s, rotation: 0))?.rcode == .formatError)
    }
}
