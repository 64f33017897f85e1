import FoundationEssentials
import Glibc
import NIOHTTP1
import WeftAPI
import WeftHTTPServer

/// A request to the local API, read whole (bodies are small: form fields).
struct APIRequest: Sendable {
    var method: HTTPMethod
    /// The path without the query, split into components.
    var path: [String]
    var query: [(String, String)]
    var body: [UInt8]
    /// The client asked for JSON (`Accept: application/json`): failures then come as
    /// `APIErrorBody`, and `/ps` as a list of `ContainerRecord`.
    var acceptsJSON: Bool
    /// The `Host` header, if any.
    var host: String?
    /// The request carries `Origin` or a browser's fetch-metadata headers (`Sec-Fetch-*`).
    var fromBrowser: Bool
    /// The client's TCP port (its end of the loopback connection).
    var clientPort: Int?

    init(head: HTTPRequestHead, body: [UInt8], clientPort: Int? = nil) {
        method = head.method
        acceptsJSON = head.headers["Accept"].contains { $0.contains("application/json") }
        host = head.headers["Host"].first
        fromBrowser = head.headers.contains { $0.name.lowercased() == "origin" || $0.name.lowercased().hasPrefix("sec-fetch-") }
        self.clientPort = clientPort
        let parts = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        path = parts[0].split(separator: "/").map { APIPath.percentDecode($0) ?? String($0) }
        query = parts.count > 1 ? Self.formFields(String(parts[1])) : []
        self.body = body
    }

    /// All values of a form field, from an urlencoded body, and (but for `POST`) the query. A
    /// `POST` is the changing call a page can make without the browser asking first; its
    /// fields come from the body only, so no link or image URL can carry them (`PUT` and
    /// `DELETE` keep their query fields: `PUT /name/ID/IP?fqdn=…` is Weave's shape).
    func values(_ name: String) -> [String] {
        let fields = (method == .POST ? [] : query) + Self.formFields(String(decoding: body, as: UTF8.self))
        return fields.filter { $0.0 == name }.map(\.1)
    }

    static func formFields(_ text: String) -> [(String, String)] {
        text.split(separator: "&").compactMap { pair in
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                APIPath.percentDecode(s.replacing("+", with: " ")) ?? String(s)
            }
            return (decode(kv[0]), kv.count > 1 ? decode(kv[1]) : "")
        }
    }
}

/// A response from the local API.
typealias APIResponse = HTTPAnswer

extension HTTPAnswer {
    static func text(_ body: String, _ status: HTTPResponseStatus = .ok) -> HTTPAnswer {
        HTTPAnswer(status: status, contentType: "text/plain; charset=utf-8", body: body)
    }

    static func json(_ body: String, _ status: HTTPResponseStatus = .ok) -> HTTPAnswer {
        HTTPAnswer(status: status, contentType: "application/json", body: body)
    }

    /// An error the CLI prints as its one line.
    static func error(_ message: String, _ status: HTTPResponseStatus = .badRequest) -> HTTPAnswer {
        .text(message + "\n", status)
    }
}
