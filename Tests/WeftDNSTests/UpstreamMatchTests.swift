import Testing
@testable import WeftDNS
import WeftTypes

/// What counts as the upstream's answer to a try: its ID, the response bit, the question.
@Suite struct UpstreamMatchTests {
    static func message(id: UInt16, response: Bool, name: String) throws -> [UInt8] {
        let q = DNSQuestion(name: try #require(DNSName(name)), type: .a, dnsClass: 1)
        return DNSMessage(id: id, flags: response ? 0x8180 : 0x0100, questions: [q]).encoded(limit: 512)
    }

    @Test func matching() throws {
        let query = try Self.message(id: 7, response: false, name: "real.example.")
        #expect(UpstreamResolver.answers(try Self.message(id: 7, response: true, name: "real.example."), query: query))
        #expect(UpstreamResolver.answers(try Self.message(id: 7, response: true, name: "REAL.Example."), query: query))
        // Another question with the right ID, the wrong ID, or a query instead of an answer.
        #expect(!UpstreamResolver.answers(try Self.message(id: 7, response: true, name: "evil.example."), query: query))
        #expect(!UpstreamResolver.answers(try Self.message(id: 8, response: true, name: "real.example."), query: query))
        #expect(!UpstreamResolver.answers(try Self.message(id: 7, response: false, name: "real.example."), query: query))
        #expect(!UpstreamResolver.answers([0, 7, 0x81], query: query))
    }
}
