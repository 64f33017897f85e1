import Foundation
import Testing
import WeftAPI

@Suite struct RouterReportTests {
    /// The JSON example of docs/api.md, as written there.
    static func documentedExample() throws -> Data {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/api.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        let start = try #require(text.range(of: "```json\n"))
        let end = try #require(text.range(of: "```", range: start.upperBound..<text.endIndex))
        return Data(text[start.upperBound..<end.lowerBound].utf8)
    }

    /// The documented report decodes into the contract's types, every part of it.
    @Test func documentedExampleDecodes() throws {
        let report = try JSONDecoder().decode(RouterReport.self, from: Self.documentedExample())
        #expect(report.router.nickname == "h1")
        #expect(report.router.protocol == "weft")
        #expect(report.peers.first?.connections.first?.nickname == "h2")
        #expect(report.connections.first?.datapath == "sleeve")
        #expect(report.connections.first?.pathMTU == 1472)
        #expect(report.targets.first?.kind == "direct")
        #expect(report.routes.unicast.count == 2)
        #expect(report.ipam?.peers.first?.owned == 349525)
        #expect(report.ipam?.conflicts.count == 1)
        #expect(report.dns?.entries.first?.containerID == "c1")
    }

    /// What the router encodes, a client decodes to the same value.
    @Test func roundTrip() throws {
        let report = try JSONDecoder().decode(RouterReport.self, from: Self.documentedExample())
        let again = try JSONDecoder().decode(RouterReport.self, from: JSONEncoder().encode(report))
        #expect(again == report)
    }

    /// Optional parts stay out of the JSON when absent (no `null`s): IPAM and DNS off.
    @Test func absentPartsAreOmitted() throws {
        var report = try JSONDecoder().decode(RouterReport.self, from: Self.documentedExample())
        report.ipam = nil
        report.dns = nil
        let text = String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
        #expect(!text.contains("\"ipam\"") && !text.contains("\"dns\"") && !text.contains("null"))
    }
}
