import FoundationEssentials
import Glibc
import Logging
import NIOCore
import NIOHTTP1
import WeftIPAM
import WeftMesh
import WeftTypes

/// The IPAM side of the router: building the service, and the `/ip`, `/ring`, `/peer/{name}`
/// and `/status/ipam` calls.
extension Router {
    /// How long an HTTP allocation may wait for agreement or donated space.
    static let ipamWait: Duration = .seconds(20)
    static let ipamStateFile = "ipam.json"
    static let ipamJournalFile = "ipam.journal"

    static func makeIPAM(configuration: RouterConfiguration, mesh: Mesh, logger: Logger) throws -> IPAMService? {
        guard let range = configuration.settings.ipamRange else {
            logger.info("IPAM off (--ipalloc-range is empty)")
            return nil
        }
        var allocator = Allocator(me: configuration.mesh.identity.name, range: range, mode: configuration.settings.ipamMode)
        allocator.learn(nicknames: [configuration.mesh.identity.name: configuration.mesh.identity.nickname])
        let state = configuration.stateDirectory
        let snapshot = state.read(ipamStateFile), journal = state.read(ipamJournalFile)
        if snapshot != nil || journal != nil {
            do {
                try allocator.restore(snapshot: snapshot, journal: journal)
                logger.info("IPAM: restored \(allocator.allocatedCount) allocations and the ring from \(state.url(ipamStateFile).path)")
            } catch where error.kind == .conflict {
                // Another peer's or another range's state: keep it aside, start afresh.
                let aside = ipamStateFile + ".old"
                // No older copy aside is the usual case.
                try? FileManager.default.removeItem(at: state.url(aside))
                do { try FileManager.default.moveItem(at: state.url(ipamStateFile), to: state.url(aside)) } catch {
                    logger.warning("IPAM: cannot move \(ipamStateFile) aside: \(error); it will be replaced")
                }
                state.remove(ipamJournalFile)
                logger.warning("IPAM: \(error); moved it to \(aside) and starting afresh")
            } catch {
                throw StateError("\(error) (\(state.url(ipamStateFile).path)); fix or delete it")
            }
        }
        let storage = IPAMService.Storage(
            replaceSnapshot: { data in try state.write(ipamStateFile, data) },
            appendJournal: { data in try state.append(ipamJournalFile, data) },
            clearJournal: { try state.write(ipamJournalFile, Data()) })
        return IPAMService(allocator: allocator, sender: mesh.sender(channel: IPAMService.channel), storage: storage,
                           logger: logger)
    }


    /// Answers the IPAM calls; nil for any other call.
    func handleIPAM(_ request: APIRequest) async -> APIResponse? {
        let path = request.path
        guard path.first == "ip" || path == ["ring"] || path == ["status", "ipam"]
                || (request.method == .DELETE && path.count == 2 && path[0] == "peer") else { return nil }
        guard let ipam else { return .error("IPAM is off (--ipalloc-range is empty)", .notFound) }
        do throws(IPAMError) {
            let method = request.method
            let args = Array(path.dropFirst(2))  // after "ip", ID
            if method == .GET, path == ["status", "ipam"] {
                return .text(StatusText.ipam(ipam.status()))
            }
            if method == .GET, path == ["ring"] {
                guard await ipam.waitUntilReady(timeout: Self.ipamWait) else {
                    return .error(ipam.status().state, .serviceUnavailable)
                }
                return .text("")
            }
            if method == .DELETE, path[0] == "peer" {
                let (name, moved) = try ipam.takeOver(path[1])
                return .text("\(moved) IPs taken over from \(name)\n")
            }
            guard path.count >= 2, path[0] == "ip" else {
                return .error("no such call: \(method) /\(path.joined(separator: "/"))", .notFound)
            }
            let id = path[1]
            guard !id.isEmpty, id.utf8.count <= 255, !id.contains(where: { $0.isNewline }) else {
                throw IPAMError(.invalid, "a container ID has 1 to 255 bytes and no line breaks")
            }
            switch (method, args.count) {
            case (.POST, 0):
                return .text(try await ipam.allocate(id: id, in: nil, timeout: Self.ipamWait).cidr + "\n")
            case (.POST, 2):
                let subnet = try Self.subnet(args[0], args[1])
                return .text(try await ipam.allocate(id: id, in: subnet, timeout: Self.ipamWait).cidr + "\n")
            case (.PUT, 1):
                let a = try Self.address(args[0])
                return .text(try await ipam.claim(id: id, address: a, subnet: nil, timeout: Self.ipamWait).cidr + "\n")
            case (.PUT, 2):
                guard let a = Allocation(cidr: "\(args[0])/\(args[1])") else {
                    throw IPAMError(.invalid, "'\(args[0])/\(args[1])' is not an address with a prefix length")
                }
                return .text(try await ipam.claim(id: id, address: a.address, subnet: a.subnet, timeout: Self.ipamWait).cidr + "\n")
            case (.GET, 0):
                let held = ipam.lookup(id: id)
                guard !held.isEmpty else { return .error("no address for \(id)", .notFound) }
                return .text(held.map(\.cidr).joined(separator: "\n") + "\n")
            case (.DELETE, 0):
                return .text(try ipam.free(id: id, address: nil).map { $0.cidr + "\n" }.joined())
            case (.DELETE, 1):
                let freed = try ipam.free(id: id, address: try Self.address(args[0]))
                guard !freed.isEmpty else { return .error("\(id) does not hold \(args[0])", .notFound) }
                return .text(freed.map { $0.cidr + "\n" }.joined())
            default:
                return .error("no such call: \(method) /\(path.joined(separator: "/"))", .notFound)
            }
        } catch {
            let failure = APIFailure(error)
            return .error(failure.description, failure.status)
        }
    }

    private static func address(_ text: String) throws(IPAMError) -> UInt32 {
        guard let a = IPv4.parse(text) else { throw IPAMError(.invalid, "'\(text)' is not an IPv4 address") }
        return a
    }

    private static func subnet(_ address: String, _ prefix: String) throws(IPAMError) -> Subnet {
        guard let s = Subnet("\(address)/\(prefix)") else {
            throw IPAMError(.invalid, "'\(address)/\(prefix)' is not a network (its host bits must be zero)")
        }
        return s
    }
}
