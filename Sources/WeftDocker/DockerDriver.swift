import FoundationEssentials
import Glibc
public import WeftAPI
import WeftTypes

/// The Docker network driver and IPAM driver `weft`, over libnetwork's remote plugin protocol
/// (one JSON POST per call). Addresses come from the router's IPAM; Join has the router make a
/// veth pair on the `weft` bridge whose container end Docker moves into the container as
/// `ethwe0`; the container's name (and aliases) go into the DNS once the engine lists the
/// endpoint. Every call is answered: a failure or an unknown call with `{"Err": …}`.
public final class DockerDriver: Sendable {
    /// Runs slow work after an answer (naming an endpoint waits for the engine).
    public typealias Background = @Sendable (@escaping @Sendable () -> Void) -> Void

    let router: APIClient
    let engine: APIClient?
    let state: DriverState
    let background: Background
    let log: @Sendable (String) -> Void

    /// How long after Join the engine may take to list the endpoint with its container.
    static let namingWait: Duration = .seconds(15)

    /// `statePath` keeps the driver's allocations across its restarts (nil: in memory only);
    /// `engine` is the Docker engine's API, for containers' names (nil: no names).
    public init(router: APIClient, engine: APIClient?, statePath: String?, background: @escaping Background,
                log: @escaping @Sendable (String) -> Void) throws {
        self.router = router
        self.engine = engine
        self.state = try DriverState(path: statePath)
        self.background = background
        self.log = log
    }

    /// One answer: the HTTP status and the JSON body.
    public struct Answer: Sendable, Equatable {
        public var status: Int
        public var body: String

        public init(status: Int, body: String) {
            self.status = status
            self.body = body
        }
    }

    struct Failure: Error {
        var status = 500
        var message: String
        init(_ message: String, status: Int = 500) {
            self.message = message
            self.status = status
        }
    }

    /// Answers the call at `path` with the request `body`.
    public func handle(path: String, body: [UInt8]) -> Answer {
        do {
            let json = try answer(path: path, body: Data(body))
            return Answer(status: 200, body: json)
        } catch let failure as Failure {
            log("\(path): \(failure.message)")
            return Answer(status: failure.status, body: Self.encode(PluginCalls.Err(Err: failure.message)))
        } catch {
            log("\(path): \(error)")
            return Answer(status: 500, body: Self.encode(PluginCalls.Err(Err: "\(error)")))
        }
    }

    func answer(path: String, body: Data) throws -> String {
        switch path {
        case "/Plugin.Activate": return #"{"Implements":["NetworkDriver","IpamDriver"]}"#
        case "/NetworkDriver.GetCapabilities": return #"{"Scope":"local","ConnectivityScope":"global"}"#
        case "/IpamDriver.GetCapabilities": return #"{"RequiresMACAddress":false,"RequiresRequestReplay":false}"#
        case "/IpamDriver.GetDefaultAddressSpaces":
            return #"{"LocalDefaultAddressSpace":"weft","GlobalDefaultAddressSpace":"weft"}"#
        case "/IpamDriver.RequestPool": return try requestPool(decode(body))
        case "/IpamDriver.ReleasePool": _ = try decode(body) as PluginCalls.ReleasePool; return "{}"
        case "/IpamDriver.RequestAddress": return try requestAddress(decode(body))
        case "/IpamDriver.ReleaseAddress": return try releaseAddress(decode(body))
        case "/NetworkDriver.CreateNetwork": return try createNetwork(decode(body))
        case "/NetworkDriver.DeleteNetwork": _ = try decode(body) as PluginCalls.NetworkOnly; return "{}"
        case "/NetworkDriver.CreateEndpoint": return try createEndpoint(decode(body))
        case "/NetworkDriver.DeleteEndpoint": return try deleteEndpoint(decode(body))
        case "/NetworkDriver.EndpointOperInfo": _ = try decode(body) as PluginCalls.Endpoint; return #"{"Value":{}}"#
        case "/NetworkDriver.Join": return try join(decode(body))
        case "/NetworkDriver.Leave": return try leave(decode(body))
        case "/NetworkDriver.DiscoverNew", "/NetworkDriver.DiscoverDelete",
             "/NetworkDriver.ProgramExternalConnectivity", "/NetworkDriver.RevokeExternalConnectivity":
            return "{}"
        default:
            throw Failure("weft does not implement \(path)", status: 404)
        }
    }

    private func decode<T: Decodable>(_ body: Data) throws -> T {
        do { return try JSONDecoder().decode(T.self, from: body) } catch {
            throw Failure("malformed request (\(T.self)): \(error)", status: 400)
        }
    }

    static func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? "{}"
    }

    /// The router's answer, or a Failure with its message.
    private func call<T>(_ what: String, _ body: () throws(APIClientError) -> T) throws -> T {
        do { return try body() } catch {
            if error.kind == .notRunning { throw Failure("\(what): the weft router is not running in this network namespace: run weft launch") }
            throw Failure("\(what): \(error)")
        }
    }

    // MARK: IPAM driver

    func requestPool(_ r: PluginCalls.RequestPool) throws -> String {
        guard r.V6 != true else { throw Failure("weft has no IPv6 addresses: create the network without --ipv6") }
        guard let pool = r.Pool, !pool.isEmpty else {
            throw Failure("give the subnet: docker network create -d weft --ipam-driver weft --subnet 10.32.0.0/12 weft (the router's IPAM range, or a subnet of it)")
        }
        guard Subnet(pool) != nil else { throw Failure("'\(pool)' is not a network like 10.32.0.0/12") }
        guard r.SubPool?.isEmpty ?? true else { throw Failure("weft allocates from the whole pool: --ip-range is not supported") }
        // Naming the pool as its own gateway tells Docker not to ask for a gateway address
        // (weft containers need none on the flat overlay).
        return Self.encode(PluginCalls.RequestPoolAnswer(PoolID: pool, Pool: pool, Data: ["com.docker.network.gateway": pool]))
    }

    func requestAddress(_ r: PluginCalls.RequestAddress) throws -> String {
        guard let pool = Subnet(r.PoolID) else { throw Failure("unknown pool '\(r.PoolID)'") }
        let id = "docker:" + Self.randomHex(8)
        let path: String
        let method: APIClient.Method
        if let given = r.Address, !given.isEmpty {
            let address = given.split(separator: "/").first.map(String.init) ?? given
            guard IPv4.parse(address) != nil else { throw Failure("'\(given)' is not an IPv4 address") }
            (method, path) = (.PUT, APIPath.ip(id, [address, String(pool.prefix)]))
        } else {
            (method, path) = (.POST, APIPath.ip(id, [IPv4.format(pool.start), String(pool.prefix)]))
        }
        let text = try call("allocate in \(r.PoolID)") { () throws(APIClientError) in try router.expectOK(method, path) }
        guard let cidr = text.split(whereSeparator: \.isNewline).first.map(String.init) else {
            throw Failure("the router gave no address")
        }
        if let error = state.change({ $0.addresses[cidr] = id }) { log("\(error); a restart would not know \(cidr)") }
        return Self.encode(PluginCalls.RequestAddressAnswer(Address: cidr))
    }

    func releaseAddress(_ r: PluginCalls.ReleaseAddress) throws -> String {
        let address = r.Address.split(separator: "/").first.map(String.init) ?? r.Address
        guard let (cidr, id) = state.read({ s in s.addresses.first { $0.key.hasPrefix(address + "/") } }) else { return "{}" }
        do { _ = try router.expectOK(.DELETE, APIPath.ip(id)) } catch {
            if case .refused(404, _) = error.kind {} else { throw Failure("release \(address): \(error)") }
        }
        state.change { _ = $0.addresses.removeValue(forKey: cidr) }
        return "{}"
    }

    // MARK: network driver

    func createNetwork(_ r: PluginCalls.CreateNetwork) throws -> String {
        guard let pool = r.IPv4Data?.first?.Pool, Subnet(pool) != nil else {
            throw Failure("a weft network needs --ipam-driver weft and --subnet")
        }
        return "{}"
    }

    func createEndpoint(_ r: PluginCalls.CreateEndpoint) throws -> String {
        guard let address = r.Interface?.Address, !address.isEmpty else {
            throw Failure("endpoint \(r.EndpointID) has no IPv4 address: use --ipam-driver weft")
        }
        let given = r.Interface?.MacAddress.flatMap { $0.isEmpty ? nil : $0 }
        let mac = given ?? MAC.stable(for: r.EndpointID).description
        if let error = state.change({ $0.endpoints[r.EndpointID] = .init(network: r.NetworkID, address: address, mac: mac) }) {
            log("\(error)")
        }
        // A MAC in the answer only when Docker gave none.
        return given == nil ? Self.encode(PluginCalls.CreateEndpointAnswer(Interface: .init(MacAddress: mac))) : "{}"
    }

    func deleteEndpoint(_ r: PluginCalls.Endpoint) throws -> String {
        state.change { _ = $0.endpoints.removeValue(forKey: r.EndpointID) }
        return "{}"
    }

    /// The veth whose container end Docker moves in as ethwe0, with a route to the embedded
    /// DNS (Docker's own resolver forwards to it from the container's namespace).
    func join(_ r: PluginCalls.Join) throws -> String {
        guard let endpoint = state.read({ $0.endpoints[r.EndpointID] }) else { throw Failure("unknown endpoint \(r.EndpointID)") }
        let ifname = "vethwd" + String(r.EndpointID.prefix(9))
        let form = [("netns", r.SandboxKey), ("id", r.EndpointID), ("ifname", ifname), ("handoff", "yes"),
                    ("ip", endpoint.address), ("mac", endpoint.mac)]
        let record = try call("join") { () throws(APIClientError) in
            try router.decode(ContainerRecord.self, APIPath.attach, method: .POST, form: form)
        }
        let routes = record.dns.map { [PluginCalls.JoinAnswer.StaticRoute(Destination: $0.nameserver + "/32", RouteType: 1)] } ?? []
        if let address = endpoint.address.split(separator: "/").first.map(String.init) {
            background { [self] in name(endpoint: r.EndpointID, network: r.NetworkID, address: address) }
        }
        return Self.encode(PluginCalls.JoinAnswer(InterfaceName: .init(SrcName: ifname, DstPrefix: "ethwe"), StaticRoutes: routes))
    }

    func leave(_ r: PluginCalls.Endpoint) throws -> String {
        do { _ = try router.expectOK(.POST, APIPath.detach, form: [("id", r.EndpointID)]) } catch {
            switch error.kind {
            case .refused(404, _), .notRunning: break
            default: throw Failure("leave: \(error)")
            }
        }
        return "{}"
    }

    /// Registers the endpoint's container name and network aliases once the engine lists it
    /// (after Join returns), for `namingWait` at most.
    func name(endpoint: String, network: String, address: String) {
        guard let engine else { return }
        let deadline = ContinuousClock.now + Self.namingWait
        var lastError = "the endpoint is not listed"
        while ContinuousClock.now < deadline {
            let net: EngineCalls.Network
            do { net = try engine.decode(EngineCalls.Network.self, "/v1.41/networks/" + network) } catch {
                lastError = "\(error)"
                usleepSeconds(0.1)
                continue
            }
            if let (containerID, member) = net.Containers?.first(where: { $0.value.EndpointID == endpoint }) {
                let settings = try? engine.decode(EngineCalls.Container.self, "/v1.41/containers/\(containerID)/json")
                let aliases = settings?.NetworkSettings?.Networks?[net.Name]?.Aliases ?? []
                var names: [String] = []
                for n in [member.Name] + aliases where DNSName(n) != nil && !names.contains(n) { names.append(n) }
                for n in names {
                    do { try router.expectOK(.PUT, APIPath.name(endpoint, address), form: [("fqdn", n)]) } catch {
                        log("cannot name \(endpoint) \(n): \(error)")
                    }
                }
                return
            }
            // Still being set up by the engine: look again shortly.
            usleepSeconds(0.1)
        }
        log("endpoint \(endpoint) not named in the DNS: after \(Self.namingWait), the engine's API: \(lastError)")
    }

    static func randomHex(_ bytes: Int) -> String {
        (0..<bytes).map { _ in UInt8.random(in: 0...255) }.hex
    }
}
