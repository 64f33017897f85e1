import FoundationEssentials
import Glibc
import WeftSystem
import WeftAPI

/// A podman or Docker container named on the command line (`weft attach web1`), found through
/// the runtime's own API or CLI: its process, hence its network namespace, its full ID and name.
struct RuntimeContainer {
    var id: String
    var name: String
    var pid: Int32
    /// Its addresses on the runtime's networks (Docker's inspect; empty for podman).
    var networkAddresses: [String] = []

    var netns: String { "/proc/\(pid)/ns/net" }

    /// True when `spec` is already what attach takes: a PID, a path, or a name under /run/netns.
    static func isNamespace(_ spec: String) -> Bool {
        spec.allSatisfy(\.isNumber) || spec.contains("/") || FileManager.default.fileExists(atPath: "/run/netns/" + spec)
    }

    /// The container `spec` names in Docker (DOCKER_HOST or /var/run/docker.sock) or podman;
    /// nil when neither knows it.
    static func find(_ spec: String) throws -> RuntimeContainer? {
        if let c = try docker(spec) { return c }
        return try podman(spec)
    }

    private struct DockerInspect: Decodable {
        var Id: String
        var Name: String
        var State: State
        var NetworkSettings: Settings?

        struct State: Decodable { var Pid: Int32; var Running: Bool }
        struct Settings: Decodable { var Networks: [String: Network]? }
        struct Network: Decodable { var IPAddress: String? }
    }

    static func docker(_ spec: String) throws -> RuntimeContainer? {
        var socket = currentEnvironment()["DOCKER_HOST"] ?? "unix:///var/run/docker.sock"
        guard socket.hasPrefix("unix://") else { return nil }
        socket.removeFirst("unix://".count)
        guard FileManager.default.fileExists(atPath: socket) else { return nil }
        let engine = APIClient(unixSocket: socket)
        let inspect: DockerInspect
        do { inspect = try engine.decode(DockerInspect.self, "/v1.41/containers/\(APIPath.percentEncode(spec))/json") } catch {
            if case .refused(404, _) = error.kind { return nil }
            if error.kind == .notRunning { return nil }
            throw CLIError("Docker: \(error)")
        }
        guard inspect.State.Running, inspect.State.Pid > 0 else { throw CLIError("Docker container \(spec) is not running") }
        let addresses = (inspect.NetworkSettings?.Networks ?? [:]).values.compactMap { $0.IPAddress }.filter { !$0.isEmpty }
        return RuntimeContainer(id: inspect.Id, name: String(inspect.Name.drop { $0 == "/" }), pid: inspect.State.Pid,
                                networkAddresses: addresses)
    }

    static func podman(_ spec: String) throws -> RuntimeContainer? {
        guard let podman = DaemonProcess.onPath("podman") else { return nil }
        guard let (status, output) = try? ChildProcess.run(
            podman, ["container", "inspect", "--format", "{{.State.Pid}} {{.Id}} {{.Name}}", spec],
            environment: currentEnvironment()), status == 0 else { return nil }
        let fields = String(decoding: output, as: UTF8.self).split(whereSeparator: \.isWhitespace)
        guard fields.count == 3, let pid = Int32(fields[0]) else { return nil }
        guard pid > 0 else { throw CLIError("podman container \(spec) is not running") }
        return RuntimeContainer(id: String(fields[1]), name: String(fields[2]), pid: pid)
    }
}
