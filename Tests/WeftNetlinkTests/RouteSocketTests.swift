import Testing
import WeftNetlink

@Suite struct RouteSocketTests {
    /// The loopback device always exists and always has index 1; a made-up name has none.
    @Test func looksUpLinks() throws {
        let socket = try RouteSocket()
        #expect(try socket.linkIndex(named: "lo") == 1)
        #expect(try socket.linkIndex(named: "weft-no-such0") == nil)
    }
}
