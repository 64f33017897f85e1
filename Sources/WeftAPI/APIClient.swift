import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import WeftSystem

/// A client of the router's local API (127.0.0.1:6784): one HTTP/1.1 request per connection,
/// over a plain blocking socket (the CLI and the runtime plugins are short-lived and
/// synchronous, and must start fast: no event loop, no thread pool). The router closes each
/// connection after its answer.
public struct APIClient: Sendable {
    public enum Method: String, Sendable {
        case GET, POST, PUT, DELETE
    }

    /// One answer: the status and the body.
    public struct Response: Sendable {
        public var status: Int
        public var body: [UInt8]

        public var text: String { String(decoding: body, as: UTF8.self) }
        public var isSuccess: Bool { (200..<300).contains(status) }
        /// The router's one-line message of a failed call.
        public var message: String {
            if let json = try? JSONDecoder().decode(APIErrorBody.self, from: Data(body)) { return json.message }
            return text.split(separator: "\n").first.map(String.init) ?? "HTTP \(status)"
        }
    }

    public static let defaultPort = 6784
    /// Answers larger than this are refused (the report of a big mesh is a few MiB).
    static let maxResponse = 256 << 20

    public var host: String
    public var port: Int
    /// A unix socket to call instead of host and port (the Docker engine's API).
    public var unixSocket: String?

    public init(host: String = "127.0.0.1", port: Int = APIClient.defaultPort) {
        self.host = host
        self.port = port
    }

    /// A client of an HTTP API on a unix socket (`/var/run/docker.sock`).
    public init(unixSocket path: String) {
        self.init(host: "localhost", port: 80)
        unixSocket = path
    }

    /// Makes one call; throws `.notRunning` when nothing listens, `.timeout` when no answer
    /// came in time. Form fields go in an urlencoded body.
    public func call(_ method: Method, _ path: String, form: [(String, String)] = [], json: Bool = false,
                     timeout: Duration = .seconds(30)) throws(APIClientError) -> Response {
        let body = form.map { APIPath.percentEncode($0.0) + "=" + APIPath.percentEncode($0.1) }.joined(separator: "&")
        var request = "\(method.rawValue) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n"
        if json { request += "Accept: application/json\r\n" }
        request += "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body
        let fd: Int32
        do { fd = try syscall("socket") { socket(unixSocket == nil ? AF_INET : AF_UNIX, Int32(SOCK_STREAM.rawValue), 0) } } catch {
            throw APIClientError(.failed("\(error)"))
        }
        defer { close(fd) }
        let tv = timeval(tv_sec: Int(max(1, timeout.components.seconds)), tv_usec: 0)
        do {
            try setSocketOption(fd, level: SOL_SOCKET, name: SO_RCVTIMEO, value: tv, "setsockopt(SO_RCVTIMEO)")
            try setSocketOption(fd, level: SOL_SOCKET, name: SO_SNDTIMEO, value: tv, "setsockopt(SO_SNDTIMEO)")
        } catch { throw APIClientError(.failed("\(error)")) }
        do { try connect(fd) } catch { throw APIClientError(.notRunning) }
        do {
            var bytes = Array(request.utf8)[...]
            while !bytes.isEmpty {
                let n = try syscall("send") { bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }
                bytes = bytes.dropFirst(n)
            }
        } catch { throw APIClientError(.closed) }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n: Int
            do { n = try syscall("recv") { chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) } } } catch {
                if error.errno == EAGAIN || error.errno == EWOULDBLOCK {
                    throw APIClientError(.timeout("\(method.rawValue) \(path)"))
                }
                throw APIClientError(.closed)
            }
            if n == 0 { break }
            received += chunk[..<n]
            guard received.count <= Self.maxResponse else { throw APIClientError(.malformed("an answer over 256 MiB")) }
        }
        return try Self.parse(received)
    }

    /// Connects `fd` to the unix socket, or to host and port.
    private func connect(_ fd: Int32) throws {
        if let unixSocket {
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let path = Array(unixSocket.utf8)
            guard path.count < MemoryLayout.size(ofValue: address.sun_path) else { throw APIClientError(.failed("socket path too long")) }
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path) }
            try syscall("connect") {
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
                }
            }
            return
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { throw APIClientError(.failed("bad API host \(host)")) }
        try syscall("connect") {
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
    }

    /// Reads an HTTP/1.1 answer: the status line, headers (Content-Length when given), body.
    static func parse(_ bytes: [UInt8]) throws(APIClientError) -> Response {
        guard !bytes.isEmpty else { throw APIClientError(.closed) }
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = bytes.indices.dropLast(3).first(where: { bytes[$0..<$0 + 4].elementsEqual(separator) }) else {
            throw APIClientError(.malformed("no end of headers"))
        }
        let head = String(decoding: bytes[..<end], as: UTF8.self).split(separator: "\r\n")
        let statusLine = head.first?.split(separator: " ") ?? []
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), let status = Int(statusLine[1]) else {
            throw APIClientError(.malformed("no status line"))
        }
        var body = Array(bytes[(end + 4)...])
        for line in head.dropFirst() {
            let kv = line.split(separator: ":", maxSplits: 1)
            guard kv.count == 2 else { continue }
            let value = kv[1].filter { !$0.isWhitespace }.lowercased()
            switch kv[0].lowercased() {
            case "content-length":
                guard let length = Int(value) else { continue }
                guard length <= body.count else { throw APIClientError(.malformed("a body shorter than its length")) }
                body = Array(body.prefix(length))
            case "transfer-encoding" where value == "chunked":
                body = try dechunk(body)
            default:
                break
            }
        }
        return Response(status: status, body: body)
    }

    /// The body of a chunked answer (Go's servers send larger answers so): hex size, CRLF,
    /// data, CRLF, until a zero size.
    static func dechunk(_ bytes: [UInt8]) throws(APIClientError) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while true {
            guard let lineEnd = (i..<max(i, bytes.count - 1)).first(where: { bytes[$0] == 13 && bytes[$0 + 1] == 10 }) else {
                throw APIClientError(.malformed("a chunk without its size line"))
            }
            let sizeText = String(decoding: bytes[i..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(String(sizeText.filter { !$0.isWhitespace }), radix: 16), size >= 0 else {
                throw APIClientError(.malformed("a chunk size that is not hex"))
            }
            if size == 0 { return out }
            let start = lineEnd + 2
            guard size <= bytes.count - start else { throw APIClientError(.malformed("a chunk shorter than its size")) }
            out += bytes[start..<start + size]
            i = start + size + 2
            guard i <= bytes.count else { throw APIClientError(.malformed("a chunk without its end")) }
        }
    }

    /// Calls and returns the body of a 2xx answer; anything else throws `.refused` with the
    /// router's own one-line message.
    @discardableResult
    public func expectOK(_ method: Method, _ path: String, form: [(String, String)] = []) throws(APIClientError) -> String {
        let response = try call(method, path, form: form)
        guard response.isSuccess else { throw APIClientError(.refused(status: response.status, message: response.message)) }
        return response.text
    }

    /// Calls with `Accept: application/json` and decodes a 2xx answer as `T`.
    public func decode<T: Decodable>(_ type: T.Type, _ path: String, method: Method = .GET,
                                     form: [(String, String)] = []) throws(APIClientError) -> T {
        let response = try call(method, path, form: form, json: true)
        guard response.isSuccess else { throw APIClientError(.refused(status: response.status, message: response.message)) }
        do { return try JSONDecoder().decode(T.self, from: Data(response.body)) } catch {
            throw APIClientError(.malformed("\(path) is not the JSON this client knows: \(error)"))
        }
    }

    /// The JSON report.
    public func report() throws(APIClientError) -> RouterReport { try decode(RouterReport.self, APIPath.report) }

    /// The attached containers.
    public func containers() throws(APIClientError) -> [ContainerRecord] { try decode([ContainerRecord].self, APIPath.ps) }

    /// True when a router answers.
    public var isRunning: Bool { (try? call(.GET, APIPath.version, timeout: .seconds(5))) != nil }
}

/// A call to the router that did not succeed; the description is the one line the CLI prints.
public struct APIClientError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// Nothing listens on the API port.
        case notRunning
        case timeout(String)
        /// The router closed the connection without a whole answer.
        case closed
        case malformed(String)
        /// The router answered with a failure status and this message.
        case refused(status: Int, message: String)
        case failed(String)
    }

    public let kind: Kind

    public init(_ kind: Kind) { self.kind = kind }

    public var description: String {
        switch kind {
        case .notRunning: "the weft router is not running in this network namespace"
        case .timeout(let call): "the router did not answer \(call) in time"
        case .closed: "the router closed the connection"
        case .malformed(let why): "the router's answer is malformed: \(why)"
        case .refused(_, let message): message
        case .failed(let why): "cannot reach the router: \(why)"
        }
    }
}
