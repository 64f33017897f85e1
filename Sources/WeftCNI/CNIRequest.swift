import WeftTypes

/// What the runtime says in the environment (spec 1.0 "Parameters").
public struct CNIRequest: Sendable {
    public enum Command: String, Sendable {
        case add = "ADD", del = "DEL", check = "CHECK", version = "VERSION", status = "STATUS", gc = "GC"
    }

    public var command: Command
    public var containerID: String?
    public var netns: String?
    public var ifname: String?
    public var args: CNIArgs

    /// Reads `CNI_COMMAND`, `CNI_CONTAINERID`, `CNI_NETNS`, `CNI_IFNAME` and `CNI_ARGS`.
    public init(environment: [String: String]) throws(CNIError) {
        guard let text = environment["CNI_COMMAND"], !text.isEmpty else {
            throw CNIError(.invalidEnvironment, "CNI_COMMAND is not set: this is a CNI plugin, run by a container runtime")
        }
        guard let command = Command(rawValue: text) else {
            throw CNIError(.invalidEnvironment, "CNI_COMMAND \(text) is not ADD, DEL, CHECK, VERSION, STATUS or GC")
        }
        self.command = command
        func value(_ key: String) -> String? { environment[key].flatMap { $0.isEmpty ? nil : $0 } }
        containerID = value("CNI_CONTAINERID")
        netns = value("CNI_NETNS")
        ifname = value("CNI_IFNAME")
        args = try CNIArgs(environment["CNI_ARGS"])
    }

    /// The container ID, or code 4.
    func requireContainerID() throws(CNIError) -> String {
        guard let containerID else { throw CNIError(.invalidEnvironment, "CNI_CONTAINERID is not set") }
        guard containerID.utf8.count <= 200, !containerID.contains(where: { $0.isNewline || $0 == "/" }) else {
            throw CNIError(.invalidEnvironment, "CNI_CONTAINERID is not a container ID (1 to 200 bytes, no / or line break)")
        }
        return containerID
    }

    func requireIfname() throws(CNIError) -> String {
        guard let ifname else { throw CNIError(.invalidEnvironment, "CNI_IFNAME is not set") }
        guard isInterfaceName(ifname) else {
            throw CNIError(.invalidEnvironment, "CNI_IFNAME '\(ifname)' is not an interface name (1 to 15 bytes)")
        }
        return ifname
    }

    func requireNetns() throws(CNIError) -> String {
        guard let netns else { throw CNIError(.invalidEnvironment, "CNI_NETNS is not set") }
        return netns
    }

    /// The router's ID of this attachment: container ID and interface, so one container can be
    /// on the network twice (podman `network connect` gives eth1).
    func attachmentID() throws(CNIError) -> String { try requireContainerID() + ":" + requireIfname() }
}
