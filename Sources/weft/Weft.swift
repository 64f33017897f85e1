import ArgumentParser
import FoundationEssentials
import Glibc
import WeftSystem
import WeftAPI

/// `weft`: the command line of a Weft router. Every command but `launch` talks to the running
/// router through its local API; none links the router's internals.
@main
struct Weft: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weft",
        abstract: "Weft: a decentralized mesh overlay network for containers.",
        subcommands: [
            Launch.self, Connect.self, Forget.self, Status.self, Report.self, Attach.self, Detach.self, Ps.self,
            Expose.self, Hide.self, DNSAdd.self, DNSRemove.self, DNSLookup.self, RmPeer.self, Prime.self, Stop.self,
            Reset.self, SetupCNI.self, Version.self,
        ])

    /// Runs a command; any error becomes one line on stderr and exit status 1.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if exitCode(for: error) == .success {
                print(fullMessage(for: error))
                return
            }
            let full = (error as? CLIError)?.description ?? (error as? APIClientError)?.description ?? fullMessage(for: error)
            let line = full.split(separator: "\n").first.map(String.init) ?? "\(error)"
            writeStandardError("weft: \(line.replacing("Error: ", with: ""))\n")
            Glibc.exit(1)
        }
    }
}

/// The router's API, as the CLI reaches it: in this network namespace, on loopback.
let api = APIClient()

/// An error the CLI prints as its one line on stderr before exiting with status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
