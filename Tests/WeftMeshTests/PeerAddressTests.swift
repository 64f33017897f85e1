import Testing
import WeftMesh

@Suite struct PeerAddressTests {
    /// Every accepted form normalises to `host:port`.
    @Test(arguments: [
        ("198.18.0.1", "198.18.0.1:6783"), ("198.18.0.1:7000", "198.18.0.1:7000"),
        ("[fd00::1]", "[fd00::1]:6783"), ("[fd00::1]:7000", "[fd00::1]:7000"), ("fd00::1", "[fd00::1]:6783"),
        ("peer.example", "peer.example:6783"),
    ])
    func normalises(_ input: String, _ expected: String) {
        #expect(PeerAddress(input, defaultPort: 6783)?.description == expected)
    }

    /// Malformed addresses are refused.
    @Test(arguments: ["", ":6783", "h:0", "h:70000", "h:x", "[fd00::1", "[]:1", "[::1]x"])
    func refuses(_ input: String) {
        #expect(PeerAddress(input, defaultPort: 6783) == nil)
    }
}
