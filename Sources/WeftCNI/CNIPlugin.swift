import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
public import WeftAPI
import WeftTypes

/// The `weft` CNI plugin: network type `weft` (a veth on the `weft` bridge, made by the router
/// as `weft attach` does, with an address from its IPAM) and IPAM type `weft` (addresses only,
/// for another network plugin). It knows the router only through the local API, so it must
/// run in the router's network namespace, which is where runtimes run it.
public struct CNIPlugin: Sendable {
    public var api: APIClient

    public init(api: APIClient = APIClient()) { self.api = api }

    /// Runs one command: the bytes to print on stdout, and whether it succeeded (exit status
    /// 0) or failed (1, with a CNI error object as the output).
    public func run(environment: [String: String], stdin: [UInt8]) -> (output: [UInt8], success: Bool) {
        var version = CNIVersion.latest
        do throws(CNIError) {
            let request = try CNIRequest(environment: environment)
            if request.command == .version { return (versionAnswer(stdin), true) }
            let config = try NetworkConfig.decode(stdin)
            version = config.cniVersion
            let output = try run(request, config)
            return (output, true)
        } catch {
            var e = error
            e.cniVersion = version
            return (CNIJSON.encode(e), false)
        }
    }

    /// VERSION: the versions spoken, in the version asked for when it is one of them.
    func versionAnswer(_ stdin: [UInt8]) -> [UInt8] {
        struct Asked: Decodable { var cniVersion: String? }
        struct Answer: Encodable { var cniVersion: String; var supportedVersions: [String] }
        let asked = (try? JSONDecoder().decode(Asked.self, from: Data(stdin)))?.cniVersion
        let v = asked.flatMap { CNIVersion.supported.contains($0) ? $0 : nil } ?? CNIVersion.latest
        return CNIJSON.encode(Answer(cniVersion: v, supportedVersions: CNIVersion.supported))
    }

    func run(_ request: CNIRequest, _ config: NetworkConfig) throws(CNIError) -> [UInt8] {
        let network: Bool
        if config.type == "weft" {
            guard config.ipam == nil || config.ipam?.type == "weft" else {
                throw CNIError(.invalidConfig, "the weft network hands out addresses itself: set ipam.type to weft or leave ipam out")
            }
            network = true
        } else if config.ipam?.type == "weft" {
            network = false
        } else {
            throw CNIError(.invalidConfig, "this is the weft plugin: the configuration's type or ipam.type must be weft")
        }
        switch request.command {
        case .add: return try network ? addNetwork(request, config) : addIPAM(request, config)
        case .del:
            try network ? delNetwork(request) : delIPAM(request)
            return []
        case .check:
            guard CNIVersion.hasCheck(config.cniVersion) else {
                throw CNIError(.incompatibleVersion, "CHECK needs CNI version 0.4.0 or later, not \(config.cniVersion)")
            }
            guard let previous = config.prevResult else { throw CNIError(.invalidConfig, "CHECK needs prevResult") }
            try network ? checkNetwork(request, previous) : checkIPAM(request, previous)
            return []
        case .status:
            guard api.isRunning else { throw CNIError(.pluginNotAvailable, Self.notRunning) }
            return []
        case .gc:
            if network { try collectGarbage(config) }
            return []
        case .version:
            return versionAnswer([])
        }
    }

    static let notRunning = "weft router not running in this network namespace: run weft launch"

    /// The router's answer to a call, or the CNI error a user can act on.
    func call<T>(_ body: () throws(APIClientError) -> T) throws(CNIError) -> T {
        do { return try body() } catch { throw Self.failure(error) }
    }

    /// A failed router call as the CNI error a user can act on.
    static func failure(_ error: APIClientError) -> CNIError {
        switch error.kind {
        case .notRunning: CNIError(.tryAgainLater, notRunning)
        case .timeout, .closed: CNIError(.tryAgainLater, "the weft router did not answer", details: error.description)
        case .refused(_, let message): CNIError(.routerRefused, message)
        case .malformed, .failed: CNIError(.ioFailure, "cannot talk to the weft router", details: error.description)
        }
    }

    /// True when the failure means there is nothing to undo (no router, or it knows nothing
    /// of the attachment): DEL succeeds then.
    static func isGone(_ error: APIClientError) -> Bool {
        switch error.kind {
        case .notRunning: true
        case .refused(let status, _): status == 404
        default: false
        }
    }

    // MARK: network type weft

    func addNetwork(_ request: CNIRequest, _ config: NetworkConfig) throws(CNIError) -> [UInt8] {
        let netns = try request.requireNetns()
        let ifname = try request.requireIfname()
        let id = try request.attachmentID()
        var form: [(String, String)] = [("netns", netns), ("id", id), ("ifname", ifname), ("gateway", "yes")]
        for address in try requestedAddresses(request, config) { form.append(("ip", address)) }
        if let mac = request.args.mac ?? config.runtimeConfig?.mac { form.append(("mac", mac)) }
        for name in names(request, config) { form.append(("name", name)) }
        var record = try call { () throws(APIClientError) in
            try api.decode(ContainerRecord.self, APIPath.attach, method: .POST, form: form)
        }
        if record.netns != netns {
            // An attachment of a namespace that is gone (a DEL missed): replaced.
            _ = try call { () throws(APIClientError) in try api.expectOK(.POST, APIPath.detach, form: [("id", id)]) }
            record = try call { () throws(APIClientError) in
                try api.decode(ContainerRecord.self, APIPath.attach, method: .POST, form: form)
            }
        }
        if record.gateway != nil { try Self.enableForwarding() }
        return Self.result(of: record, ifname: ifname, netns: netns).converted(to: config.cniVersion).encoded()
    }

    /// The host routes for its containers (their default route is the bridge), as the bridge
    /// plugin's gateway mode does: without it, replies to a mapped port (`-p`) and traffic
    /// leaving the overlay stop at the bridge.
    static func enableForwarding() throws(CNIError) {
        let path = "/proc/sys/net/ipv4/ip_forward"
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CNIError(.ioFailure, "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard write(fd, "1\n", 2) == 2 else { throw CNIError(.ioFailure, "cannot write \(path): \(String(cString: strerror(errno)))") }
    }

    /// The result of an attachment: the host veth end and the container's interface, its
    /// addresses, its default route through the bridge, and the embedded DNS.
    static func result(of record: ContainerRecord, ifname: String, netns: String) -> CNIResult {
        var interfaces: [CNIResult.Interface] = []
        if let host = record.hostLink { interfaces.append(.init(name: host)) }
        interfaces.append(.init(name: ifname, mac: record.mac, sandbox: netns))
        let index = interfaces.count - 1
        let ips = record.cidrs.map { cidr in
            CNIResult.IPConfig(address: cidr, gateway: record.gateway, interface: index)
        }
        var routes: [CNIResult.Route] = []
        if let gateway = record.gateway { routes.append(.init(dst: "0.0.0.0/0", gw: gateway)) }
        let dns = record.dns.map { CNIResult.DNS(nameservers: [$0.nameserver], domain: $0.domain, search: [$0.domain]) }
        return CNIResult(cniVersion: CNIVersion.latest, interfaces: interfaces, ips: ips, routes: routes, dns: dns)
    }

    /// `IP=` from CNI_ARGS, else the `ips` capability, else one from the IPAM subnet.
    func requestedAddresses(_ request: CNIRequest, _ config: NetworkConfig) throws(CNIError) -> [String] {
        let given = request.args.ip.map { [$0] } ?? config.runtimeConfig?.ips ?? []
        for a in given where IPv4.parse(a) == nil && Allocation(cidr: a) == nil {
            throw CNIError(.invalidConfig, "'\(a)' is not an IPv4 address (IP= in CNI_ARGS, or the ips capability)")
        }
        if !given.isEmpty { return given }
        if let subnet = config.ipam?.subnet {
            guard Subnet(subnet) != nil else { throw CNIError(.invalidConfig, "ipam.subnet '\(subnet)' is not a network like 10.32.1.0/24") }
            return ["net:" + subnet]
        }
        return []
    }

    /// The container's DNS names: the runtime's name for it, then its aliases on this
    /// network; only valid names, each once.
    func names(_ request: CNIRequest, _ config: NetworkConfig) -> [String] {
        var result: [String] = []
        for n in [request.args.podName].compactMap({ $0 }) + (config.runtimeConfig?.aliases?[config.name] ?? [])
        where !n.isEmpty && DNSName(n) != nil && !result.contains(n) {
            result.append(n)
        }
        return result
    }

    /// DEL: the attachment goes with its addresses and names. With no router, or no such
    /// attachment, there is nothing to undo here: the router frees, when it starts, every
    /// attachment whose namespace went meanwhile.
    func delNetwork(_ request: CNIRequest) throws(CNIError) {
        let id = try request.attachmentID()
        do { _ = try api.expectOK(.POST, APIPath.detach, form: [("id", id)]) } catch {
            if !Self.isGone(error) { throw Self.failure(error) }
        }
    }

    /// CHECK: the router has the attachment with the previous result's addresses, and the
    /// namespace has the interface with that MAC and those addresses.
    func checkNetwork(_ request: CNIRequest, _ previous: CNIResult) throws(CNIError) {
        let netns = try request.requireNetns()
        let ifname = try request.requireIfname()
        let id = try request.attachmentID()
        let records = try call { () throws(APIClientError) in try api.containers() }
        guard let record = records.first(where: { $0.id == id }) else {
            throw CNIError(.checkFailed, "the weft router has no attachment \(id)")
        }
        let expected = Set(Self.containerAddresses(previous, ifname: ifname))
        guard Set(record.cidrs) == expected else {
            throw CNIError(.checkFailed, "\(id) holds \(record.cidrs.joined(separator: ", ")), the previous result says \(expected.sorted().joined(separator: ", "))")
        }
        let found: NamespaceInterfaces.Interface?
        do { found = try NamespaceInterfaces.read(netns: netns).first { $0.name == ifname } } catch {
            throw CNIError(.checkFailed, "cannot look inside \(netns)", details: error.description)
        }
        guard let found else { throw CNIError(.checkFailed, "\(netns) has no interface \(ifname)") }
        guard MAC(found.mac ?? "") == MAC(record.mac) else {
            throw CNIError(.checkFailed, "\(ifname) in \(netns) has MAC \(found.mac ?? "none"), not \(record.mac)")
        }
        guard expected.isSubset(of: Set(found.cidrs)) else {
            throw CNIError(.checkFailed, "\(ifname) in \(netns) has \(found.cidrs.isEmpty ? "no address" : found.cidrs.joined(separator: ", ")), not \(expected.sorted().joined(separator: ", "))")
        }
    }

    /// The addresses a result gives the container's interface `ifname` (or every address when
    /// the result names no interfaces).
    static func containerAddresses(_ result: CNIResult, ifname: String) -> [String] {
        let interfaces = result.interfaces ?? []
        return (result.ips ?? []).filter { ip in
            guard let i = ip.interface, interfaces.indices.contains(i) else { return true }
            return interfaces[i].name == ifname && interfaces[i].sandbox != nil
        }.map(\.address)
    }

    /// GC (spec 1.1): every attachment of this plugin the runtime no longer lists goes.
    func collectGarbage(_ config: NetworkConfig) throws(CNIError) {
        guard let valid = config.validAttachments else { return }
        let keep = Set(valid.map { $0.containerID + ":" + $0.ifname })
        let records = try call { () throws(APIClientError) in try api.containers() }
        for r in records {
            // Only attachments this plugin made (ID "container:ifname"), and not those listed.
            guard let ifname = r.interface, r.id.hasSuffix(":" + ifname), !keep.contains(r.id) else { continue }
            do { _ = try api.expectOK(.POST, APIPath.detach, form: [("id", r.id)]) } catch {
                if !Self.isGone(error) { throw Self.failure(error) }
            }
        }
    }

    // MARK: IPAM type weft

    func addIPAM(_ request: CNIRequest, _ config: NetworkConfig) throws(CNIError) -> [UInt8] {
        let id = try request.attachmentID()
        let given = try requestedAddresses(request, config)
        let path: String
        let method: APIClient.Method
        if let first = given.first, !first.hasPrefix("net:") {
            let parts = first.split(separator: "/").map(String.init)
            path = APIPath.ip(id, parts)
            method = .PUT
        } else if let first = given.first, let subnet = Subnet(String(first.dropFirst(4))) {
            path = APIPath.ip(id, [IPv4.format(subnet.start), String(subnet.prefix)])
            method = .POST
        } else {
            path = APIPath.ip(id)
            method = .POST
        }
        let text = try call { () throws(APIClientError) in try api.expectOK(method, path) }
        let cidrs = text.split(whereSeparator: \.isNewline).map(String.init)
        guard !cidrs.isEmpty else { throw CNIError(.ioFailure, "the weft router gave no address for \(id)") }
        let result = CNIResult(cniVersion: CNIVersion.latest, ips: cidrs.map { CNIResult.IPConfig(address: $0) },
                               routes: config.ipam?.routes)
        return result.converted(to: config.cniVersion).encoded()
    }

    func delIPAM(_ request: CNIRequest) throws(CNIError) {
        let id = try request.attachmentID()
        do { _ = try api.expectOK(.DELETE, APIPath.ip(id)) } catch {
            if !Self.isGone(error) { throw Self.failure(error) }
        }
    }

    func checkIPAM(_ request: CNIRequest, _ previous: CNIResult) throws(CNIError) {
        let id = try request.attachmentID()
        let text = try call { () throws(APIClientError) in try api.expectOK(.GET, APIPath.ip(id)) }
        let held = Set(text.split(whereSeparator: \.isNewline).map(String.init))
        let expected = Set((previous.ips ?? []).map(\.address))
        guard expected.isSubset(of: held) else {
            throw CNIError(.checkFailed, "\(id) holds \(held.sorted().joined(separator: ", ")), the previous result says \(expected.sorted().joined(separator: ", "))")
        }
    }
}
