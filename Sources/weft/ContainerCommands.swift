import ArgumentParser
import WeftAPI
import FoundationEssentials
import Glibc
import WeftSystem
import WeftTypes

struct Attach: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Plug a network namespace into the overlay as ethwe and print its address.")

    @Option(help: "Address (a.b.c.d/n), or net:CIDR for one from IPAM in that subnet (repeatable; default: one from IPAM).")
    var ip: [String] = []

    @Option(help: "Host name to register in DNS.")
    var name: String?

    @Option(help: "Container ID (default: the namespace as given).")
    var id: String?

    @Argument(help: "The namespace: a name under /run/netns, a path, a PID, or a podman or Docker container's name or ID.")
    var netns: String

    func run() throws {
        var (netns, id, name) = (netns, id, name)
        if !RuntimeContainer.isNamespace(netns) {
            guard let c = try RuntimeContainer.find(netns) else {
                throw CLIError("no network namespace, podman or Docker container named \(netns)")
            }
            (netns, id, name) = (c.netns, id ?? c.id, name ?? c.name)
        }
        var form = [("netns", netns)] + ip.map { ("ip", $0) }
        if let name { form.append(("name", name)) }
        if let id { form.append(("id", id)) }
        print(try api.expectOK(.POST, APIPath.attach, form: form), terminator: "")
    }
}

struct Detach: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Unplug a container and free its addresses.")

    @Argument(help: "The namespace as given to attach, the container ID, or a podman or Docker container's name.")
    var container: String

    func run() throws {
        var key = container
        if try !api.containers().contains(where: { $0.id == container || $0.netns == container }),
           let c = try RuntimeContainer.find(container) {
            key = c.id
        }
        _ = try api.expectOK(.POST, APIPath.detach, form: [("netns", key)])
    }
}

struct Ps: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List attached containers: ID, MAC, addresses.")

    func run() throws {
        print(try api.expectOK(.GET, APIPath.ps), terminator: "")
    }
}

struct Expose: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Give this host an address on the overlay and print it.")

    @Argument(help: "Addresses (a.b.c.d/n or net:CIDR; default: one from IPAM).")
    var addresses: [String] = []

    func run() throws {
        print(try api.expectOK(.POST, APIPath.expose, form: addresses.map { ("ip", $0) }), terminator: "")
    }
}

struct Hide: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Take back this host's overlay addresses.")

    func run() throws {
        print(try api.expectOK(.POST, APIPath.hide), terminator: "")
    }
}
