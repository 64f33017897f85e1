import Foundation
import Testing
import WeftAPI
@testable import WeftDocker

@Suite("Docker driver protocol")
struct DockerDriverTests {
    /// A driver whose router is "not running" (nothing listens on port 1), keeping its state
    /// in `path` when given.
    func driver(_ path: String? = nil) throws -> DockerDriver {
        try DockerDriver(router: APIClient(port: 1), engine: nil, statePath: path, background: { $0() }, log: { _ in })
    }

    func json(_ answer: DockerDriver.Answer) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any])
    }

    func call(_ d: DockerDriver, _ path: String, _ body: String) -> DockerDriver.Answer {
        d.handle(path: path, body: Array(body.utf8))
    }

    /// Activation names both drivers; the capabilities are what libnetwork asks.
    @Test func activation() throws {
        let d = try driver()
        #expect(try json(call(d, "/Plugin.Activate", "")).description.contains("IpamDriver"))
        #expect(try json(call(d, "/NetworkDriver.GetCapabilities", "{}"))["Scope"] as? String == "local")
        #expect(try json(call(d, "/IpamDriver.GetCapabilities", "{}"))["RequiresMACAddress"] as? Bool == false)
    }

    /// An unknown call is 404 and a malformed one 400, both with an Err; the driver goes on.
    @Test func badCalls() throws {
        let d = try driver()
        let unknown = call(d, "/NetworkDriver.Bogus", "{}")
        #expect(unknown.status == 404)
        #expect((try json(unknown)["Err"] as? String)?.isEmpty == false)
        let malformed = call(d, "/IpamDriver.RequestAddress", #"{"PoolID":"#)
        #expect(malformed.status == 400)
        #expect(try json(malformed)["Err"] != nil)
        #expect(call(d, "/Plugin.Activate", "").status == 200)
    }

    /// Pools: IPv6 and a missing subnet are refused with what to do; a subnet is its own ID
    /// and gateway (so Docker asks for no gateway address).
    @Test func pools() throws {
        let d = try driver()
        #expect(try json(call(d, "/IpamDriver.RequestPool", #"{"Pool":"10.32.0.0/12","V6":true}"#))["Err"] != nil)
        let missing = try json(call(d, "/IpamDriver.RequestPool", #"{"Pool":""}"#))
        #expect((missing["Err"] as? String)?.contains("--subnet") == true)
        let pool = try json(call(d, "/IpamDriver.RequestPool", #"{"Pool":"10.32.0.0/12"}"#))
        #expect(pool["PoolID"] as? String == "10.32.0.0/12")
        #expect((pool["Data"] as? [String: String])?["com.docker.network.gateway"] == "10.32.0.0/12")
    }

    /// An endpoint without a MAC gets a stable one in the answer; with one, the answer is empty.
    /// Join of an endpoint never created is refused.
    @Test func endpoints() throws {
        let d = try driver()
        let made = try json(call(d, "/NetworkDriver.CreateEndpoint",
                                 #"{"NetworkID":"n","EndpointID":"e1","Interface":{"Address":"10.32.0.5/12"}}"#))
        let mac = (made["Interface"] as? [String: Any])?["MacAddress"] as? String
        // Locally administered (bit 1 of the first byte), the same for the same endpoint.
        #expect(mac.flatMap { UInt8($0.prefix(2), radix: 16) }.map { $0 & 2 == 2 } == true)
        let given = call(d, "/NetworkDriver.CreateEndpoint",
                         #"{"NetworkID":"n","EndpointID":"e2","Interface":{"Address":"10.32.0.6/12","MacAddress":"02:00:00:00:00:07"}}"#)
        #expect(given.body == "{}")
        #expect(try json(call(d, "/NetworkDriver.Join", #"{"NetworkID":"n","EndpointID":"nope","SandboxKey":"/x"}"#))["Err"] != nil)
    }

    /// With the router down, allocating fails with what to do, and leaving succeeds.
    @Test func routerDown() throws {
        let d = try driver()
        let failed = try json(call(d, "/IpamDriver.RequestAddress", #"{"PoolID":"10.32.0.0/12","Address":""}"#))
        #expect((failed["Err"] as? String)?.contains("weft launch") == true)
        #expect(call(d, "/NetworkDriver.Leave", #"{"NetworkID":"n","EndpointID":"e1"}"#).body == "{}")
    }

    /// Endpoints survive a restart of the driver (Docker does not replay them).
    @Test func statePersists() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("weft-docker-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = call(try driver(path), "/NetworkDriver.CreateEndpoint", #"{"NetworkID":"n","EndpointID":"e1","Interface":{"Address":"10.32.0.5/12"}}"#)
        let again = try driver(path)
        #expect(again.state.read { $0.endpoints["e1"]?.address } == "10.32.0.5/12")
    }
}
