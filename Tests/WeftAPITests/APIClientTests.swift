import Testing
@testable import WeftAPI

@Suite struct APIClientTests {
    /// An answer is cut at its Content-Length; the status and the body come out.
    @Test func parsesAnAnswer() throws {
        let raw = Array("HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nno ipsIGNORED".utf8)
        let response = try APIClient.parse(raw)
        #expect(response.status == 404)
        #expect(response.text == "no ips")
        #expect(response.message == "no ips")
        #expect(!response.isSuccess)
    }

    /// A JSON error body gives its message.
    @Test func jsonErrorMessage() throws {
        let raw = Array("HTTP/1.1 400 Bad Request\r\n\r\n{\"message\":\"'x' is not an address\",\"status\":400}".utf8)
        #expect(try APIClient.parse(raw).message == "'x' is not an address")
    }

    /// A chunked answer (the Docker engine's larger ones) comes out whole.
    @Test func chunkedAnswer() throws {
        let raw = Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n3;x=y\r\n12}\r\n0\r\n\r\n".utf8)
        #expect(try APIClient.parse(raw).text == "{\"a\":12}")
    }

    /// Garbage is a clear error, never a trap.
    @Test(arguments: ["", "HTTP/1.1", "garbage\r\n\r\n", "HTTP/1.1 abc\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nshort",
                      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nff\r\nab",
                      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab"])
    func refusesGarbage(_ text: String) {
        #expect(throws: APIClientError.self) { try APIClient.parse(Array(text.utf8)) }
    }

    /// Path components and form values are percent-encoded byte by byte.
    @Test func percentEncoding() {
        #expect(APIPath.percentEncode("web-1.weft.local") == "web-1.weft.local")
        #expect(APIPath.percentEncode("a b/c&d=é") == "a%20b%2Fc%26d%3D%C3%A9")
        #expect(APIPath.name("c1", "10.32.0.1") == "/name/c1/10.32.0.1")
        #expect(APIPath.peer("h/7") == "/peer/h%2F7")
    }

    /// Percent-decoding undoes the encoding; a broken escape or bytes that are not UTF-8 give nil.
    @Test func percentDecoding() {
        #expect(APIPath.percentDecode("a%20b%2Fc%26d%3D%C3%A9") == "a b/c&d=é")
        #expect(APIPath.percentDecode(APIPath.percentEncode("web 1/é")) == "web 1/é")
        #expect(APIPath.percentDecode("50%") == nil)
        #expect(APIPath.percentDecode("%zz") == nil)
        #expect(APIPath.percentDecode("%FF") == nil)
    }

    /// Nothing listening is "not running", not a hang.
    @Test func notRunning() {
        let client = APIClient(host: "127.0.0.1", port: 1)
        #expect(!client.isRunning)
        #expect(throws: APIClientError.self) { try client.call(.GET, APIPath.version, timeout: .seconds(2)) }
    }
}
