import ArgumentParser
import WeftAPI
import FoundationEssentials
import Glibc
import WeftSystem

struct Connect: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Add peers to connect to (host[:port]).")

    @Flag(help: "Replace the list of peers instead of adding to it.")
    var replace = false

    @Argument(help: "Peers (host[:port]).")
    var peers: [String] = []

    func validate() throws {
        if peers.isEmpty && !replace { throw ValidationError("give at least one peer") }
    }

    func run() throws {
        var form = peers.map { ("peer", $0) }
        if replace { form.append(("replace", "true")) }
        _ = try api.expectOK(.POST, APIPath.connect, form: form)
    }
}

struct Forget: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Stop connecting to peers (existing connections stay).")

    @Argument(help: "Peers (host[:port]).")
    var peers: [String]

    func run() throws {
        _ = try api.expectOK(.POST, APIPath.forget, form: peers.map { ("peer", $0) })
    }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the router's status, or one part of it.")

    enum Part: String, ExpressibleByArgument, CaseIterable {
        case peers, connections, targets, ipam, dns
    }

    @Argument(help: "peers, connections, targets, ipam or dns.")
    var part: Part?

    @Flag(help: "Print JSON (the matching part of `weft report`).")
    var json = false

    func run() throws {
        guard json else {
            print(try api.expectOK(.GET, part.map { APIPath.status($0.rawValue) } ?? APIPath.status), terminator: "")
            return
        }
        guard let part else {
            print(try api.expectOK(.GET, APIPath.report), terminator: "")
            return
        }
        let report = try api.report()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data: Data
        switch part {
        case .peers: data = try encoder.encode(report.peers)
        case .connections: data = try encoder.encode(report.connections)
        case .targets: data = try encoder.encode(report.targets)
        case .ipam:
            guard let ipam = report.ipam else { throw CLIError("the router reports no ipam") }
            data = try encoder.encode(ipam)
        case .dns:
            guard let dns = report.dns else { throw CLIError("the router reports no dns") }
            data = try encoder.encode(dns)
        }
        print(String(decoding: data, as: UTF8.self))
    }
}

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the router's full JSON report.")

    func run() throws {
        print(try api.expectOK(.GET, APIPath.report), terminator: "")
    }
}

struct Stop: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Stop the router (its state stays).")

    @OptionGroup var state: StateDirOption

    func run() throws {
        DockerPluginProcess.stop(stateDir: state.path)
        guard api.isRunning else {
            writeStandardError("weft: the router is not running\n")
            return
        }
        _ = try api.expectOK(.POST, APIPath.stop)
        try DaemonProcess.waitForExit(stateDir: state.path)
    }
}

struct Reset: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Hand this peer's IPAM space to a live peer, stop the router and delete its state.")

    @OptionGroup var state: StateDirOption

    func run() throws {
        if api.isRunning {
            print(try api.expectOK(.DELETE, APIPath.peer), terminator: "")
            try DaemonProcess.waitForExit(stateDir: state.path)
        }
        let path = state.path
        guard FileManager.default.fileExists(atPath: path) else { return }
        do { try FileManager.default.removeItem(atPath: path) } catch {
            throw CLIError("cannot delete \(path): \(error)")
        }
    }
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the CLI's and the router's versions.")

    static let cli = "0.1.0"

    func run() throws {
        print("weft \(Self.cli)")
        if let router = try? api.expectOK(.GET, APIPath.version) {
            print("weftd \(router.trimmed)")
        }
    }
}

/// `--state-dir` for the commands that touch the state directory themselves.
struct StateDirOption: ParsableArguments {
    @Option(name: .customLong("state-dir"), help: "State directory (or env WEFT_STATE_DIR; default /var/lib/weft).")
    var stateDir: String?

    var path: String { stateDir ?? currentEnvironment()["WEFT_STATE_DIR"] ?? "/var/lib/weft" }
}
