import NIOHTTP1
import Testing
@testable import WeftRouter

/// Who may call the API: programs on this host, not browsers; root for changing calls.
@Suite struct APIGuardTests {
    static func request(_ method: HTTPMethod, _ headers: [(String, String)], port: Int? = 40000) -> APIRequest {
        APIRequest(head: HTTPRequestHead(version: .http1_1, method: method, uri: "/connect", headers: HTTPHeaders(headers)),
                   body: [], clientPort: port)
    }

    static func refusal(_ r: APIRequest, owner: UInt32? = 0) -> String? {
        APIGuard.refusal(for: r, apiHost: "127.0.0.1", apiPort: 6784) { _ in owner }?.body
    }

    /// The CLI's and curl's requests pass; so does an HTTP/1.0 one without Host.
    @Test func programsPass() {
        #expect(Self.refusal(Self.request(.POST, [("Host", "127.0.0.1:6784")])) == nil)
        #expect(Self.refusal(Self.request(.GET, [("Host", "localhost:6784")])) == nil)
        #expect(Self.refusal(Self.request(.POST, [])) == nil)
    }

    /// A browser's request is refused, whatever it asks.
    @Test(arguments: [("Origin", "http://evil.example"), ("Sec-Fetch-Site", "cross-site"), ("sec-fetch-mode", "no-cors")])
    func browsersRefused(_ header: (String, String)) {
        for method in [HTTPMethod.GET, .POST] {
            #expect(Self.refusal(Self.request(method, [("Host", "127.0.0.1:6784"), header]))?.contains("browser") == true)
        }
    }

    /// A rebinding name is refused, even for reading.
    @Test func rebindingRefused() {
        #expect(Self.refusal(Self.request(.GET, [("Host", "attacker.example:6784")]))?.contains("Host") == true)
    }

    /// Changing calls need root; reading does not.
    @Test func changingCallsNeedRoot() {
        #expect(Self.refusal(Self.request(.POST, [("Host", "127.0.0.1:6784")]), owner: 1000)?.contains("uid 1000") == true)
        #expect(Self.refusal(Self.request(.GET, [("Host", "127.0.0.1:6784")]), owner: 1000) == nil)
        #expect(Self.refusal(Self.request(.DELETE, []), owner: nil)?.contains("cannot tell") == true)
    }

    /// The client's socket is found in the kernel's table by its two ends.
    @Test func socketOwnerFromTable() {
        let table = """
              sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 0100007F:1A80 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 101 1
               1: 0100007F:9C40 0100007F:1A80 01 00000000:00000000 00:00000000 00000000  1000        0 102 1
               2: 0100007F:1A80 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 103 1
            """
        #expect(APIGuard.loopbackOwner(clientPort: 40000, serverPort: 6784, table: table) == 1000)
        #expect(APIGuard.loopbackOwner(clientPort: 40001, serverPort: 6784, table: table) == nil)
    }
}

/// The fields of a POST come from its body only; PUT and DELETE also take the query's.
@Suite struct FormFieldTests {
    @Test func postFieldsFromTheBodyOnly() {
        let post = APIRequest(head: HTTPRequestHead(version: .http1_1, method: .POST, uri: "/connect?peer=from-query"),
                              body: Array("peer=from-body".utf8))
        #expect(post.values("peer") == ["from-body"])
        let put = APIRequest(head: HTTPRequestHead(version: .http1_1, method: .PUT, uri: "/name/c1/10.32.0.1?fqdn=web"), body: [])
        #expect(put.values("fqdn") == ["web"])
    }
}
