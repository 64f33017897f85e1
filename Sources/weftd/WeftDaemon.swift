import ArgumentParser
import FoundationEssentials
import Glibc
import Logging
import Metrics
import Prometheus
import WeftOptions
import WeftRouter
import WeftSystem

/// `weftd`: the router daemon. `weft launch` starts it in the background; it runs in the
/// network namespace it was started in until `weft stop`, `weft reset` or SIGTERM.
@main
struct WeftDaemon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weftd", abstract: "The Weft router daemon (started by `weft launch`).")

    @OptionGroup var options: RouterOptions

    static func main() async {
        do {
            var command = try parseAsRoot()
            if let daemon = command as? WeftDaemon {
                try await daemon.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .success {
                print(fullMessage(for: error))
                return
            }
            let message = fullMessage(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            writeStandardError("weftd: \(message.replacing("Error: ", with: ""))\n")
            Glibc.exit(1)
        }
    }

    func run() async throws {
        setsid()  // leave the launching shell's session: a Ctrl-C there must not stop the router
        let configuration = try RouterConfiguration(options: options, environment: ProcessInfo.processInfo.environment)
        let level = Logger.Level(rawValue: configuration.settings.logLevel.rawValue) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = Logger(label: "weftd")

        let state = configuration.stateDirectory
        try state.write("weftd.pid", Data("\(getpid())\n".utf8))
        defer { state.remove("weftd.pid") }

        let router = try Router(configuration: configuration, logger: logger, registry: registry)
        try await router.run()  // until `weft stop`, `weft reset`, SIGTERM or SIGINT
    }
}
