import ArgumentParser
import WeftAPI
import FoundationEssentials
import Glibc
import WeftSystem

/// The arguments `dns-add` and `dns-remove` share (Weave's shapes): IPv4 addresses, then at
/// most one container ID; `-h` is the name, so help is `--help` only.
struct NameArguments: ParsableArguments {
    @Option(name: [.customShort("h"), .customLong("fqdn")], help: "The name (a bare name gets the DNS domain appended).")
    var fqdn: String?

    @Argument(help: "Addresses, then a container ID (default: weft:extern).")
    var arguments: [String] = []

    /// The ID used when none is given: names that belong to no attached container.
    static let externalID = "weft:extern"

    func split() throws -> (addresses: [String], id: String?) {
        var addresses: [String] = []
        var id: String? = nil
        for a in arguments {
            if a.split(separator: ".").count == 4, a.allSatisfy({ $0.isNumber || $0 == "." }) {
                guard id == nil else { throw ValidationError("addresses come before the container ID") }
                addresses.append(a)
            } else {
                if let first = id { throw ValidationError("one container ID at most ('\(first)' and '\(a)')") }
                id = a
            }
        }
        return (addresses, id)
    }

    static func path(_ parts: String...) -> String { APIPath.name(parts) }
}

struct DNSAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dns-add",
        abstract: "Register a name for addresses, or for an attached container's addresses.",
        usage: "weft dns-add [IP...] [ID] -h FQDN",
        helpNames: [.long])

    @OptionGroup var names: NameArguments

    func run() throws {
        var (addresses, id) = try names.split()
        var fqdn = names.fqdn
        if let given = id, try !api.containers().contains(where: { $0.id == given }), let c = try RuntimeContainer.find(given) {
            // A podman or Docker container: its ID, its name by default, and its addresses on
            // the overlay (attached, on a weft CNI network, or on a Docker network).
            id = c.id
            fqdn = fqdn ?? c.name
            if addresses.isEmpty {
                let records = try api.containers().filter { $0.id == c.id || $0.id.hasPrefix(c.id + ":") }
                addresses = records.flatMap(\.cidrs).compactMap { $0.split(separator: "/").first.map(String.init) }
                if addresses.isEmpty { addresses = c.networkAddresses }
            }
        }
        if addresses.isEmpty {
            guard let id else { throw ValidationError("give addresses, a container ID, or both") }
            addresses = try attachedAddresses(of: id)
        }
        let form = fqdn.map { [("fqdn", $0)] } ?? []
        for a in addresses {
            _ = try api.expectOK(.PUT, NameArguments.path(id ?? NameArguments.externalID, a), form: form)
        }
    }
}

struct DNSRemove: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dns-remove",
        abstract: "Remove names: of the given addresses, or all of a container's (only FQDN with -h).",
        usage: "weft dns-remove [IP...] [ID] [-h FQDN]",
        helpNames: [.long])

    @OptionGroup var names: NameArguments

    func run() throws {
        let (addresses, id) = try names.split()
        guard !addresses.isEmpty || id != nil else { throw ValidationError("give addresses, a container ID, or both") }
        let form = names.fqdn.map { [("fqdn", $0)] } ?? []
        let owner = id ?? NameArguments.externalID
        if addresses.isEmpty {
            _ = try api.expectOK(.DELETE, NameArguments.path(owner), form: form)
        }
        for a in addresses {
            _ = try api.expectOK(.DELETE, NameArguments.path(owner, a), form: form)
        }
    }
}

struct DNSLookup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dns-lookup", abstract: "Print the addresses of a name in the DNS domain.")

    @Argument(help: "The name (a bare name gets the DNS domain appended).")
    var name: String

    func run() throws {
        print(try api.expectOK(.GET, NameArguments.path(name)), terminator: "")
    }
}

/// The addresses (without prefix) of an attached container, from `GET /ps`.
private func attachedAddresses(of id: String) throws -> [String] {
    guard let container = try api.containers().first(where: { $0.id == id }) else {
        throw CLIError("\(id) is not an attached container; give its addresses")
    }
    return container.cidrs.compactMap { $0.split(separator: "/").first.map(String.init) }
}
