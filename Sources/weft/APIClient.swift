import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// An error the CLI prints as its one line on stderr before exiting with status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Talks to the router's local API (127.0.0.1:6784) with SwiftNIO's HTTP/1.1 client codec.
/// The CLI is short-lived and synchronous, so each call blocks until the answer is read.
enum APIClient {
    static let host = "127.0.0.1"
    static let port = 6784

    struct Response {
        var status: Int
        var body: String
    }

    /// Calls the API; throws `notRunning` when nothing listens.
    static func call(_ method: HTTPMethod, _ path: String, form: [(String, String)] = [],
                     timeout: TimeAmount = .seconds(30)) throws -> Response {
        let group = MultiThreadedEventLoopGroup.singleton
        let promise = group.next().makePromise(of: Response.self)
        let body = form.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
        let channel: any Channel
        do {
            channel = try ClientBootstrap(group: group)
                .connectTimeout(.seconds(2))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(ResponseCollector(promise: promise))
                    }
                }
                .connect(host: host, port: port).wait()
        } catch {
            promise.fail(error)
            throw notRunning
        }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "\(host):\(port)")
        headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        let head = HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: headers)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(string: body))), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        let deadline = group.next().scheduleTask(in: timeout) {
            promise.fail(CLIError("the router did not answer \(method) \(path) in time"))
            channel.close(promise: nil)
        }
        defer { deadline.cancel() }
        return try promise.futureResult.wait()
    }

    /// Calls the API and returns the body of a 2xx answer; anything else becomes a CLIError
    /// carrying the router's own one-line message.
    static func expectOK(_ method: HTTPMethod, _ path: String, form: [(String, String)] = []) throws -> String {
        let response = try call(method, path, form: form)
        guard (200..<300).contains(response.status) else {
            let line = response.body.split(separator: "\n").first.map(String.init) ?? "HTTP \(response.status)"
            throw CLIError(line)
        }
        return response.body
    }

    /// True when a router answers.
    static var isRunning: Bool { (try? call(.GET, "/version", timeout: .seconds(5))) != nil }

    static let notRunning = CLIError("the weft router is not running in this network namespace")

    static func encode(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~:[]")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }
}

/// Gathers one HTTP response.
private final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let promise: EventLoopPromise<APIClient.Response>
    private var status = 0
    private var body = ByteBuffer()

    init(promise: EventLoopPromise<APIClient.Response>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(head): status = Int(head.status.code)
        case var .body(chunk): body.writeBuffer(&chunk)
        case .end:
            promise.succeed(APIClient.Response(status: status, body: String(buffer: body)))
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(CLIError("the router closed the connection"))
    }
}
