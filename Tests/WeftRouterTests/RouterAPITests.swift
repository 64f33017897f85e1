import Foundation
import Logging
import Testing
import WeftAPI
import WeftOptions
@testable import WeftRouter
import WeftTypes

/// Routers run in-process over an in-memory data path, their mesh and API on loopback; the
/// checks go through the HTTP API with the contract's client, as the CLI does. They need a
/// network namespace of their own (testnet/test.sh runs the unit tests in one and sets
/// WEFT_TEST_NETNS): routers never run in the machine's own namespace.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["WEFT_TEST_NETNS"] != nil,
                             "needs a network namespace of its own: run through testnet/test.sh"))
struct RouterAPITests {
    /// A router under test: running, with its client and its data path.
    struct Running {
        let router: Router
        let api: APIClient
        let dataPath: InMemoryDataPlane
        let task: Task<Void, any Error>
        let stateDirectory: String

        /// Stops the router and waits until `run()` returned.
        func stop() async throws {
            router.requestStop()
            try await task.value
            try? FileManager.default.removeItem(atPath: stateDirectory)
        }
    }

    static func start(_ index: Int, _ flags: [String] = [], peers: [Int] = []) async throws -> Running {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("weft-router-test-\(getpid())-\(index)").path
        let meshPort = 16_783 + 10 * index, apiPort = 16_784 + 10 * index
        let options = try RouterOptions.parse(["--name", "02:00:00:00:00:0\(index)", "--nickname", "r\(index)",
                                               "--state-dir", state, "--port", "\(meshPort)", "--no-dns"] + flags
                                              + peers.map { "127.0.0.1:\(16_783 + 10 * $0)" })
        var configuration = try RouterConfiguration(options: options, environment: [:])
        configuration.apiPort = apiPort
        var logger = Logger(label: "router-test-\(index)")
        logger.logLevel = .error
        nonisolated(unsafe) var made: InMemoryDataPlane?
        let router = try Router(configuration: configuration, logger: logger, registry: nil) { macs in
            let plane = InMemoryDataPlane(me: configuration.mesh.identity.name, macs: macs, namespaces: ["c1", "c2"])
            made = plane
            return plane
        }
        let task = Task { try await router.run(handlingSignals: false) }
        let api = APIClient(port: apiPort)
        for _ in 0..<100 where !api.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        return Running(router: router, api: api, dataPath: try #require(made), task: task, stateDirectory: state)
    }

    /// Polls `condition` for up to `seconds`.
    static func eventually(_ seconds: Double, _ condition: () throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if (try? condition()) == true { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try condition()
    }

    /// The report has the contract's keys and says who the router is; the status text too.
    @Test func reportAndStatus() async throws {
        let r = try await Self.start(1)
        let report = try r.api.report()
        #expect(report.router.name == "02:00:00:00:00:01")
        #expect(report.router.nickname == "r1")
        #expect(report.router.encryption == false)
        #expect(report.peers.map(\.name) == ["02:00:00:00:00:01"])
        #expect(report.routes.unicast.isEmpty)
        #expect(report.ipam?.range == "10.32.0.0/12")
        #expect(report.dns == nil)
        let status = try r.api.expectOK(.GET, APIPath.status)
        #expect(status.contains("02:00:00:00:00:01(r1)"))
        #expect(status.contains("Service: ipam"))
        #expect(try r.api.expectOK(.GET, APIPath.version) == Router.version + "\n")
        try await r.stop()
    }

    /// Errors are one line of text, or an `APIErrorBody` for a client that asks for JSON.
    @Test func errors() async throws {
        let r = try await Self.start(2)
        let text = try r.api.call(.GET, "/nope")
        #expect(text.status == 404 && text.text == "no such call: GET /nope\n")
        let json = try r.api.call(.GET, "/nope", json: true)
        let body = try JSONDecoder().decode(APIErrorBody.self, from: Data(json.body))
        #expect(body == APIErrorBody(message: "no such call: GET /nope", status: 404))
        #expect(try r.api.call(.POST, APIPath.connect, form: [("peer", "198.18.0.1:99999")]).status == 400)
        #expect(try r.api.call(.GET, APIPath.name("x")).message == "DNS is off (--no-dns)")
        #expect(throws: APIClientError.self) { try r.api.expectOK(.POST, APIPath.attach, form: [("netns", "missing")]) }
        try await r.stop()
    }

    /// IPAM and attach through the API: an address from the range, the same one again for the
    /// same ID, the container plugged into the data path and listed by `ps`, then unplugged.
    @Test func allocateAndAttach() async throws {
        let r = try await Self.start(3, ["--ipalloc-range", "10.40.0.0/24"])
        let cidr = try r.api.expectOK(.POST, APIPath.ip("c0"))
        #expect(cidr.hasPrefix("10.40.0.") && cidr.hasSuffix("/24\n"))
        #expect(try r.api.expectOK(.POST, APIPath.ip("c0")) == cidr)
        let attached = try r.api.expectOK(.POST, APIPath.attach, form: [("netns", "c1"), ("id", "web")])
        #expect(attached.hasPrefix("10.40.0."))
        let ps = try r.api.containers()
        #expect(ps.map(\.id) == ["web"] && ps.first?.netns == "c1" && ps.first?.cidrs == [attached.trimmingCharacters(in: .newlines)])
        #expect(r.dataPath.state.withLock { $0.plugged.count } == 1)
        #expect(r.dataPath.state.withLock { $0.containerMACs }.map(\.description) == ps.map(\.mac))
        _ = try r.api.expectOK(.POST, APIPath.detach, form: [("netns", "web")])
        #expect(try r.api.containers().isEmpty)
        #expect(r.dataPath.state.withLock { $0.plugged.isEmpty })
        try await r.stop()
    }

    /// Connect: two routers meet over loopback, each routes to the other and hands its data
    /// path the neighbour; forget leaves the connection; stop ends `run()`.
    @Test func connectAndForget() async throws {
        let a = try await Self.start(4, ["--ipalloc-range", ""])
        let b = try await Self.start(5, ["--ipalloc-range", ""])
        _ = try a.api.expectOK(.POST, APIPath.connect, form: [("peer", "127.0.0.1:16833")])
        let met = try await Self.eventually(10) {
            try a.api.report().routes.unicast["02:00:00:00:00:05"] == "02:00:00:00:00:05"
                && b.api.report().routes.unicast["02:00:00:00:00:04"] == "02:00:00:00:00:04"
        }
        #expect(met)
        #expect(try a.api.report().connections.first?.state == "established")
        let told = try await Self.eventually(5) { a.dataPath.state.withLock { $0.neighbours.map(\.name.description) } == ["02:00:00:00:00:05"] }
        #expect(told)
        #expect(try a.api.expectOK(.GET, APIPath.status("targets")).contains("127.0.0.1:16833"))
        _ = try a.api.expectOK(.POST, APIPath.forget, form: [("peer", "127.0.0.1:16833")])
        #expect(try !a.api.expectOK(.GET, APIPath.status("targets")).contains("127.0.0.1:16833"))
        try await b.stop()
        let lost = try await Self.eventually(10) { try a.api.report().routes.unicast.isEmpty }
        #expect(lost)
        try await a.stop()
        #expect(!a.api.isRunning)
    }
}
