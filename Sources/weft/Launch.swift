import ArgumentParser
import WeftAPI
import FoundationEssentials
import Glibc
import WeftSystem
import WeftOptions

struct Launch: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start the router (weftd) in the background for this network namespace.",
        discussion: "Waits until the router answers, then prints its peer name.")

    @OptionGroup var options: RouterOptions

    @Flag(help: "Also start the Docker network and IPAM driver 'weft' (weft-docker-plugin); weft stop stops it.")
    var dockerPlugin = false

    @Option(help: "The socket of the Docker plugin.")
    var dockerPluginSocket = "/run/docker/plugins/weft.sock"

    func run() throws {
        if api.isRunning {
            let name = (try? peerName()) ?? "unknown"
            throw CLIError("a router is already running in this network namespace (peer \(name))")
        }
        let environment = currentEnvironment()
        let stateDir = options.resolvedStateDir(environment: environment)
        let password = try options.resolvedPassword(environment: environment, readFile: { path in
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw CLIError("cannot read password file \(path)")
            }
            return text
        }, warn: { writeStandardError("weft: warning: \($0)\n") })
        if password == nil {
            writeStandardError("weft: warning: no password set, mesh traffic is not encrypted\n")
        }
        try DaemonProcess.start(arguments: options.daemonArguments, stateDir: stateDir, password: password)
        if dockerPlugin { try DockerPluginProcess.start(stateDir: stateDir, socket: dockerPluginSocket) }
        print(try peerName())
    }

    private func peerName() throws -> String { try api.report().router.name }
}

/// Starting `weftd` in the background and waiting for it to come up or go away.
enum DaemonProcess {
    /// `weftd` beside this executable, or on PATH.
    static func daemonPath() throws -> String { try siblingExecutable("weftd") }

    /// An executable of this package (`weftd`, `weft-cni`) beside this one, or on PATH.
    static func siblingExecutable(_ name: String) throws -> String {
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let sibling = me.deletingLastPathComponent().appendingPathComponent(name).path
        if FileManager.default.isExecutableFile(atPath: sibling) { return sibling }
        if let found = onPath(name) { return found }
        throw CLIError("cannot find \(name) next to weft or on PATH")
    }

    /// The executable `name` in a PATH directory.
    static func onPath(_ name: String) -> String? {
        for dir in (currentEnvironment()["PATH"] ?? "").split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Starts weftd with its output going to `stateDir/weftd.log`, then waits until its API
    /// answers. If it exits first, its last log line is the error.
    static func start(arguments: [String], stateDir: String, password: String?) throws {
        try FileManager.default.createDirectory(atPath: stateDir, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        var environment = currentEnvironment()
        environment["WEFT_STATE_DIR"] = stateDir
        environment["WEFT_PASSWORD"] = password
        let (process, logPath, logStart) = try spawnLogged(try daemonPath(), arguments, environment: environment,
                                                           log: stateDir + "/weftd.log")
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let status = process.exitStatus() {
                throw CLIError(lastLine(of: logPath, from: logStart) ?? "weftd exited with status \(status)")
            }
            if api.isRunning { return }
            usleep(50_000)
        }
        throw CLIError("weftd did not answer within 60 s (see \(logPath))")
    }

    /// Starts `path` in the background with its output appended to the file `log` (made
    /// private to root when new); returns it, the log's path and where its output starts.
    static func spawnLogged(_ path: String, _ arguments: [String], environment: [String: String],
                            log: String) throws -> (ChildProcess, String, Int) {
        let fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CLIError("cannot write \(log): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let offset = Int(lseek(fd, 0, SEEK_END))
        do {
            return (try ChildProcess.spawn(path, arguments, environment: environment, output: fd), log, offset)
        } catch {
            throw CLIError("cannot start \(path): \(error)")
        }
    }

    /// Waits until the router's process (from its pid file) has exited.
    static func waitForExit(stateDir: String) throws {
        let pidText = (try? String(contentsOfFile: stateDir + "/weftd.pid", encoding: .utf8)) ?? ""
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let apiUp = api.isRunning
            let processUp = Int32(pidText.trimmed).map { kill($0, 0) == 0 } ?? false
            if !apiUp && !processUp { return }
            usleep(50_000)
        }
        throw CLIError("the router did not stop within 30 s")
    }

    static func lastLine(of path: String, from offset: Int) -> String? {
        guard let data = FileManager.default.contents(atPath: path), offset <= data.count else { return nil }
        return String(decoding: data[offset...], as: UTF8.self).split(separator: "\n").last.map(String.init)
    }
}
