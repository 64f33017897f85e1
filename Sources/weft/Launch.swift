import ArgumentParser
import WeftAPI
import Foundation
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
        let environment = ProcessInfo.processInfo.environment
        let stateDir = options.resolvedStateDir(environment: environment)
        let password = try options.resolvedPassword(environment: environment, readFile: { path in
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw CLIError("cannot read password file \(path)")
            }
            return text
        }, warn: { FileHandle.standardError.write(Data("weft: warning: \($0)\n".utf8)) })
        if password == nil {
            FileHandle.standardError.write(Data("weft: warning: no password set, mesh traffic is not encrypted\n".utf8))
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
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
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
        let logPath = stateDir + "/weftd.log"
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil, attributes: [.posixPermissions: 0o600])
        }
        guard let log = FileHandle(forWritingAtPath: logPath) else { throw CLIError("cannot write \(logPath)") }
        log.seekToEndOfFile()
        let logStart = log.offsetInFile

        let process = Process()
        process.executableURL = URL(fileURLWithPath: try daemonPath())
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["WEFT_STATE_DIR"] = stateDir
        environment["WEFT_PASSWORD"] = password
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        do { try process.run() } catch { throw CLIError("cannot start weftd: \(error.localizedDescription)") }

        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if !process.isRunning {
                throw CLIError(lastLine(of: logPath, from: logStart) ?? "weftd exited with status \(process.terminationStatus)")
            }
            if api.isRunning { return }
            usleep(50_000)
        }
        throw CLIError("weftd did not answer within 60 s (see \(logPath))")
    }

    /// Waits until the router's process (from its pid file) has exited.
    static func waitForExit(stateDir: String) throws {
        let pidText = (try? String(contentsOfFile: stateDir + "/weftd.pid", encoding: .utf8)) ?? ""
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let apiUp = api.isRunning
            let processUp = Int32(pidText.trimmingCharacters(in: .whitespacesAndNewlines)).map { kill($0, 0) == 0 } ?? false
            if !apiUp && !processUp { return }
            usleep(50_000)
        }
        throw CLIError("the router did not stop within 30 s")
    }

    private static func lastLine(of path: String, from offset: UInt64) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        handle.seek(toFileOffset: offset)
        let text = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        return text.split(separator: "\n").last.map(String.init)
    }
}
