import FoundationEssentials
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What the driver must remember across its own restarts (Docker never replays allocations):
/// which IPAM ID holds each address it handed out, and each endpoint's address and MAC from
/// CreateEndpoint to Join. Kept in a JSON file, written whole and renamed into place.
final class DriverState: Sendable {
    struct Saved: Codable, Equatable {
        /// Address (a.b.c.d/n) → the router's IPAM ID holding it.
        var addresses: [String: String] = [:]
        var endpoints: [String: EndpointRecord] = [:]
    }

    struct EndpointRecord: Codable, Equatable {
        var network: String
        var address: String
        var mac: String
    }

    let path: String?
    private let saved: Mutex<Saved>

    /// Reads the file at `path` (none yet: empty); nil keeps everything in memory (tests).
    init(path: String?) throws {
        self.path = path
        var initial = Saved()
        if let path, let data = FileManager.default.contents(atPath: path) {
            initial = try JSONDecoder().decode(Saved.self, from: data)
        }
        saved = Mutex(initial)
    }

    func read<T>(_ body: (Saved) -> T) -> T { saved.withLock { body($0) } }

    /// Changes the state and writes it; a failed write is reported (the change stays in memory).
    @discardableResult
    func change(_ body: (inout Saved) -> Void) -> (any Error)? {
        let snapshot = saved.withLock { s -> Saved in body(&s); return s }
        guard let path else { return nil }
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let temporary = path + ".new"
            try encoder.encode(snapshot).write(to: URL(fileURLWithPath: temporary))
            guard rename(temporary, path) == 0 else { return DriverStateError(path: path, errno: errno) }
            return nil
        } catch {
            return error
        }
    }
}

/// The state file could not be renamed into place.
struct DriverStateError: Error, CustomStringConvertible {
    var path: String
    var errno: Int32
    var description: String { "cannot write \(path): \(String(cString: strerror(errno)))" }
}
