import ArgumentParser
import Dispatch
import FoundationEssentials
import Glibc
import NIOCore
import NIOHTTP1
import NIOPosix
import WeftAPI
import WeftDocker
import WeftHTTPServer
import WeftSystem

/// `weft-docker-plugin`: the Docker network and IPAM driver `weft` on a unix socket the engine
/// discovers (`/run/docker/plugins/weft.sock`). It runs in the router's network namespace
/// (the veths it has the router make are there) and talks to the router only through its
/// local API; `weft launch --docker-plugin` starts it beside the router.
@main
struct DockerPlugin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weft-docker-plugin",
        abstract: "Serve the Docker network and IPAM driver 'weft' (libnetwork remote plugin protocol).")

    @Option(help: "The socket the engine finds the plugin by.")
    var socket = "/run/docker/plugins/weft.sock"

    @Option(help: "Where the driver keeps its allocations (default: $WEFT_STATE_DIR/docker-plugin.json).")
    var stateFile: String?

    @Option(help: "The Docker engine's API socket, to name containers in the DNS (default: $DOCKER_HOST or /var/run/docker.sock).")
    var dockerHost: String?

    func run() async throws {
        let environment = currentEnvironment()
        let stateDir = environment["WEFT_STATE_DIR"] ?? "/var/lib/weft"
        let statePath = stateFile ?? stateDir + "/docker-plugin.json"
        var engineSocket = dockerHost ?? environment["DOCKER_HOST"] ?? "unix:///var/run/docker.sock"
        if engineSocket.hasPrefix("unix://") { engineSocket.removeFirst("unix://".count) }
        let pool = NIOThreadPool(numberOfThreads: 4)
        pool.start()
        let log: @Sendable (String) -> Void = { writeStandardError("weft-docker-plugin: \($0)\n") }
        let driver: DockerDriver
        do {
            driver = try DockerDriver(router: APIClient(), engine: APIClient(unixSocket: engineSocket), statePath: statePath,
                                      background: { work in pool.submit { _ in work() } }, log: log)
        } catch {
            throw ValidationError("cannot read \(statePath): \(error); fix or delete it")
        }
        try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: socket).deletingLastPathComponent().path,
                                                withIntermediateDirectories: true)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let channel = try await HTTPServer.bind(unixSocket: socket, group: group) { head, body, _ in
            let path = String(head.uri.split(separator: "?").first ?? "")
            let answer = (try? await pool.runIfActive { driver.handle(path: path, body: body) })
                ?? DockerDriver.Answer(status: 500, body: #"{"Err":"the plugin is stopping"}"#)
            return HTTPAnswer(status: HTTPResponseStatus(statusCode: answer.status),
                              contentType: "application/vnd.docker.plugins.v1.2+json", body: answer.body)
        }
        // Root's alone: whoever can call the driver has the router make links and hand out
        // addresses on its behalf, which the router's API allows only root (docs/security.md).
        guard chmod(socket, 0o600) == 0 else {
            try? await channel.close()
            throw ValidationError("cannot restrict \(socket) to root: \(String(cString: strerror(errno)))")
        }
        log("serving the weft network and IPAM driver on \(socket)")
        let stop = DispatchSource.makeSignalSource(signal: SIGTERM)
        let interrupt = DispatchSource.makeSignalSource(signal: SIGINT)
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        for source in [stop, interrupt] {
            source.setEventHandler { channel.close(promise: Optional<EventLoopPromise<Void>>.none) }
            source.resume()
        }
        try await channel.closeFuture.get()
        unlink(socket)
        try await pool.shutdownGracefully()
        try await group.shutdownGracefully()
    }
}
