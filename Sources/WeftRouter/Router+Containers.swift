import FoundationEssentials
import Glibc
import NIOHTTP1
import WeftAPI
import WeftDataPath
import WeftTypes

/// The container calls: `/attach`, `/detach`, `/ps`, `/expose`, `/hide`.
extension Router {
    /// Answers the container calls; nil for any other call.
    func handleContainers(_ request: APIRequest) async -> APIResponse? {
        do throws(APIFailure) {
            switch (request.method, request.path) {
            case (.POST, ["attach"]):
                guard let netns = request.values("netns").first, !netns.isEmpty else {
                    throw APIFailure(.badRequest, "attach needs a network namespace (name, path or PID)")
                }
                if request.values("handoff").first == "yes" {
                    guard request.values("id").first?.isEmpty == false, request.values("ifname").first?.isEmpty == false,
                          !request.values("ip").isEmpty else {
                        throw APIFailure(.badRequest, "a hand-off attach needs an id, an ifname and the addresses (ip)")
                    }
                }
                var attach = ContainerRegistry.AttachRequest(addresses: request.values("ip"), id: request.values("id").first,
                                                             names: request.values("name").filter { !$0.isEmpty },
                                                             gateway: request.values("gateway").first == "yes",
                                                             handoff: request.values("handoff").first == "yes")
                if dns != nil, let bad = attach.names.first(where: { fqdn($0) == nil }) {
                    throw APIFailure(.badRequest, "'\(bad)' is not a host name")
                }
                if let ifname = request.values("ifname").first, !ifname.isEmpty {
                    guard isInterfaceName(ifname) else {
                        throw APIFailure(.badRequest, "'\(ifname)' is not an interface name (1-15 letters, digits, -_.)")
                    }
                    attach.interface = ifname
                }
                if let text = request.values("mac").first, !text.isEmpty {
                    guard let mac = MAC(text), !mac.isGroup, mac.rawValue != 0 else { throw APIFailure(.badRequest, "'\(text)' is not a unicast MAC") }
                    attach.mac = mac
                }
                let c = try await containers.attach(netns: netns, attach)
                registerName(of: c)
                announceMACs()
                if request.acceptsJSON { return .json(Self.encodeJSON(record(of: c))) }
                return .text(c.cidrs.joined(separator: "\n") + "\n")
            case (.POST, ["detach"]):
                guard let key = request.values("netns").first ?? request.values("id").first else {
                    throw APIFailure(.badRequest, "detach needs a network namespace or a container ID")
                }
                let c = try containers.detach(key)
                dns?.remove(containerID: c.id)
                announceMACs()
                return .text(c.cidrs.joined(separator: "\n") + "\n")
            case (.GET, ["ps"]) where request.acceptsJSON:
                return .json(Self.encodeJSON(containers.list().map(record(of:))))
            case (.GET, ["ps"]):
                return .text(containers.list().map { "\($0.id) \($0.mac) \($0.cidrs.joined(separator: " "))\n" }.joined())
            case (.POST, ["expose"]):
                return .text(try await containers.expose(addresses: request.values("ip")).joined(separator: "\n") + "\n")
            case (.POST, ["hide"]):
                return .text(containers.hide().map { $0 + "\n" }.joined())
            default:
                return nil
            }
        } catch {
            return .error(error.description, error.status)
        }
    }
}

extension Router {
    /// Announces the MACs of this host's containers (the data path adds its bridge's).
    func announceMACs() {
        dataPath.announce(containerMACs: Set(containers.list().compactMap { MAC($0.mac) }))
    }
}

extension Router {
    /// A container as the API gives it.
    func record(of c: AttachedContainer) -> ContainerRecord {
        let domain = dns.map { d in String(d.responder.domain.description.dropLast(d.responder.domain.description.hasSuffix(".") ? 1 : 0)) }
        return ContainerRecord(id: c.id, netns: c.netns, hostname: c.hostname, aliases: c.aliases, mac: c.mac, cidrs: c.cidrs,
                               interface: c.interface ?? HostBridge.containerInterface, hostLink: c.hostLink, gateway: c.gateway,
                               dns: domain.map { .init(nameserver: IPv4.format(Self.dnsAddress), domain: $0) })
    }
}
