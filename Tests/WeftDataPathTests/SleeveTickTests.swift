import Glibc
import Logging
import Testing
import WeftMesh
import WeftNetlink
@testable import WeftDataPath
import WeftTypes

/// The sleeve's once-a-second tick with real sockets, in the test's own network namespace.
@Suite(.serialized, .enabled(if: getenv("WEFT_TEST_NETNS") != nil, "needs a network namespace of its own (WEFT_TEST_NETNS)"))
struct SleeveTickTests {
    static func name(_ i: Int) -> PeerName { PeerName(rawValue: 0x0200_0000_0000 + UInt64(i)) }

    /// Every neighbour gets its heartbeat and its path probe on every tick, however many there
    /// are: with 48, more than one batch of datagrams. (With one batch of 64, neighbours past
    /// the 32nd got none, so their paths timed out and their unanswered probes lowered the
    /// datagram size: in a mesh of 50, thousands of "now at most … bytes" in one restart.)
    @Test func everyNeighbourIsHeardFromOnEveryTick() throws {
        let links = try RouteSocket()
        _ = try links.createBridge("weft-tick0", mtu: 1500)
        defer { _ = try? links.deleteLink("weft-tick0") }
        try links.setLink("weft-tick0", up: true)
        let sleeve = try Sleeve(configuration: .init(me: Self.name(1), port: 46_783, interface: "weft-tick0", sealed: false),
                                logger: Logger(label: "test"))
        let receiver = try DatagramSocket(port: 46_784)
        var neighbours: [PeerName: Sleeve.Neighbour] = [:]
        for i in 2...49 { neighbours[Self.name(i)] = Sleeve.Neighbour(address: 0x7F00_0001, port: 46_784, keys: nil) }
        let me = PeerIdentity(name: Self.name(1), nickname: "p1", uid: 1)
        sleeve.update(neighbours: neighbours, routes: Routes(topology: Topology(local: me)))
        sleeve.tick()
        let batch = DatagramBatch(capacity: 256)
        var heartbeats = 0
        while true {
            let n = receiver.receive(into: batch)  // 0 after 200 ms without any
            if n == 0 { break }
            heartbeats += n
        }
        #expect(heartbeats == 2 * 48, "a heartbeat and a probe for each of 48 neighbours")
    }
}
