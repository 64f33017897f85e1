#if canImport(Glibc)
public import Glibc
#endif

/// A program the CLI starts (weftd, the Docker plugin, podman): `posix_spawn` with standard
/// input from /dev/null and standard output and error to a file descriptor, what Foundation's
/// `Process` gave without linking Foundation.
public struct ChildProcess: Sendable {
    public let pid: pid_t

    /// Starts `path` with `arguments` (after argv[0]) and exactly `environment`; standard output
    /// and error go to `output` (inherited when nil).
    public static func spawn(_ path: String, _ arguments: [String], environment: [String: String],
                             output: Int32?) throws(SystemError) -> ChildProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if let output {
            posix_spawn_file_actions_adddup2(&actions, output, 1)
            posix_spawn_file_actions_adddup2(&actions, output, 2)
        }
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in argv + envp { free(p) } }
        var pid = pid_t()
        let rc = posix_spawn(&pid, path, &actions, nil, argv, envp)
        guard rc == 0 else { throw SystemError("posix_spawn \(path)", errno: rc) }
        return ChildProcess(pid: pid)
    }

    /// Its exit status once it has ended (it is then reaped), nil while it runs.
    public func exitStatus() -> Int32? {
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
        return Self.decode(status)
    }

    /// Waits for it to end; its exit status (128 + the signal when a signal ended it).
    public func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            if errno != EINTR { return -1 }
        }
        return Self.decode(status)
    }

    private static func decode(_ status: Int32) -> Int32 {
        status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    /// Runs `path` to its end and returns its exit status and standard output (standard error
    /// is dropped).
    public static func run(_ path: String, _ arguments: [String], environment: [String: String]) throws(SystemError)
        -> (status: Int32, output: [UInt8]) {
        var fds: [Int32] = [0, 0]
        try syscall("pipe") { pipe(&fds) }
        // Not inherited by other children; dup2 gives the child its own copy without the flag.
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let child: ChildProcess
        do { child = try spawn(path, arguments, environment: environment, output: fds[1]) } catch {
            close(fds[0]); close(fds[1])
            throw error
        }
        close(fds[1])
        defer { close(fds[0]) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { break }
            output += chunk[..<n]
        }
        return (child.wait(), output)
    }
}

/// This process's environment, as `[name: value]`.
public func currentEnvironment() -> [String: String] {
    var result: [String: String] = [:]
    var entry = environ
    while let pointer = entry.pointee {
        let pair = String(cString: pointer)
        if let eq = pair.firstIndex(of: "=") { result[String(pair[..<eq])] = String(pair[pair.index(after: eq)...]) }
        entry += 1
    }
    return result
}
