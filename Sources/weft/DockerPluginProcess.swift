import FoundationEssentials
import Glibc
import WeftSystem

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
            writeStandardError("weft: the Docker plugin already runs (pid \(pid))\n")
            return
        }
        var environment = currentEnvironment()
        environment["WEFT_STATE_DIR"] = stateDir
        try? FileManager.default.removeItem(atPath: socket)
        let (process, logPath, _) = try DaemonProcess.spawnLogged(
            try DaemonProcess.siblingExecutable("weft-docker-plugin"),
            ["--socket", socket, "--state-file", stateDir + "/docker-plugin.json"],
            environment: environment, log: stateDir + "/docker-plugin.log")
        try Data("\(process.pid)\n".utf8).write(to: URL(fileURLWithPath: pidPath(stateDir)))
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if process.exitStatus() != nil { throw CLIError("weft-docker-plugin exited (see \(logPath))") }
            if FileManager.default.fileExists(atPath: socket) { return }
            usleep(20_000)
        }
        throw CLIError("weft-docker-plugin did not open \(socket) within 10 s (see \(logPath))")
    }

    /// Stops the plugin of this state directory, if it runs (TERM, up to 5 s).
    static func stop(stateDir: String) {
        guard let pid = runningPID(stateDir: stateDir) else { return }
        kill(pid, SIGTERM)
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline, kill(pid, 0) == 0 { usleep(20_000) }
        try? FileManager.default.removeItem(atPath: pidPath(stateDir))
    }

    /// The pid in the pid file when that process still runs and is the plugin.
    static func runningPID(stateDir: String) -> pid_t? {
        guard let text = try? String(contentsOfFile: pidPath(stateDir), encoding: .utf8),
              let pid = pid_t(text.trimmed), kill(pid, 0) == 0,
              let command = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8),
              command.contains("weft-docker-plugin") else { return nil }
        return pid
    }
}
