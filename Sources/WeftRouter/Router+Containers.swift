import Foundation
import NIOHTTP1
import WeftAPI
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
                if let name = request.values("name").first, dns != nil, fqdn(name) == nil {
                    throw APIFailure(.badRequest, "'\(name)' is not a host name")
                }
                let c = try await containers.attach(netns: netns, addresses: request.values("ip"), id: request.values("id").first,
                                              hostname: request.values("name").first)
                registerName(of: c)
                announceMACs()
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
                return .json(Self.encodeJSON(containers.list().map {
                    ContainerRecord(id: $0.id, netns: $0.netns, hostname: $0.hostname, mac: $0.mac, cidrs: $0.cidrs)
                }))
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
