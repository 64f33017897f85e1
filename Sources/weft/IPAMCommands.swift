import ArgumentParser
import WeftAPI
import FoundationEssentials
import Glibc
import WeftSystem

struct RmPeer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rmpeer",
        abstract: "Take over the IPAM space of peers that are gone for good (name or nickname).")

    @Argument(help: "Peers that are dead (they must not be reachable).")
    var peers: [String]

    func run() throws {
        for peer in peers {
            print(try api.expectOK(.DELETE, APIPath.peer(peer)), terminator: "")
        }
    }
}

struct Prime: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Wait until the IPAM ring is agreed, so allocations can start.")

    @Option(help: "Give up after this many seconds (0: wait for ever).")
    var timeout: Int = 0

    func run() throws {
        let deadline = ContinuousClock.now + .seconds(timeout)
        while true {
            let response = try api.call(.GET, APIPath.ring)
            if response.isSuccess { return }
            guard response.status == 503, timeout == 0 || ContinuousClock.now < deadline else { throw CLIError(response.message) }
        }
    }
}
