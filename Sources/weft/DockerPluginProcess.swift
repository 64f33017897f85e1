import Foundation

/// The Docker plugin beside the router: `weft launch --docker-plugin` starts
/// `weft-docker-plugin` in the background (its pid in `docker-plugin.pid`, its log in
/// `docker-plugin.log` of the state directory) and `weft stop` stops it. A separate process,
/// so a router restart does not take the driver away from a running engine (which would retry
/// every call for 15 s), and the router links nothing of Docker's protocol.
enum DockerPluginProcess {
    static func pidPath(_ stateDir: String) -> String { stateDir + "/docker-plugin.pid" }

    /// Starts the plugin unless one from this state directory runs, and waits for its socket.
    static func start(stateDir: String, socket: String) throws {
        if let pid = runningPID(stateDir: stateDir) {
            FileHandle.standardError.write(Data("weft: the Docker plugin already runs (pid \(pid))\n".utf8))
            return
        }
        let logPath = stateDir + "/docker-plugin.log"
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil, attributes: [.posixPermissions: 0o600])
        }
        guard let log = FileHandle(forWritingAtPath: logPath) else { throw CLIError("cannot write \(logPath)") }
        log.seekToEndOfFile()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try DaemonProcess.siblingExecutable("weft-docker-plugin"))
        process.arguments = ["--socket", socket, "--state-file", stateDir + "/docker-plugin.json"]
        var environment = ProcessInfo.processInfo.environment
        environment["WEFT_STATE_DIR"] = stateDir
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        try? FileManager.default.removeItem(atPath: socket)
        do { try process.run() } catch { throw CLIError("cannot start weft-docker-plugin: \(error.localizedDescription)") }
        try Data("\(process.processIdentifier)\n".utf8).write(to: URL(fileURLWithPath: pidPath(stateDir)))
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            guard process.isRunning else { throw CLIError("weft-docker-plugin exited (see \(logPath))") }
            if FileManager.default.fileExists(atPath: socket) { return }
            usleep(20_000)
        }
        throw CLIError("weft-docker-plugin did not open \(socket) within 10 s (see \(logPath))")
    }

    /// Stops the plugin of this state directory, if it runs (TERM, up to 5 s).
    static func stop(stateDir: String) {
        guard let pid = runningPID(stateDir: stateDir) else { return }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline, kill(pid, 0) == 0 { usleep(20_000) }
        try? FileManager.default.removeItem(atPath: pidPath(stateDir))
    }

    /// The pid in the pid file when that process still runs and is the plugin.
    static func runningPID(stateDir: String) -> pid_t? {
        guard let text = try? String(contentsOfFile: pidPath(stateDir), encoding: .utf8),
              let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), kill(pid, 0) == 0,
              let command = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8),
              command.contains("weft-docker-plugin") else { return nil }
        return pid
    }
}
