#if canImport(Glibc)
public import Glibc
#endif

/// A system call that failed: which call, on what, and errno. The description is what a user
/// or an operator sees ("setsockopt(SO_RCVBUF) on the sleeve's UDP socket: Operation not
/// permitted").
public struct SystemError: Error, CustomStringConvertible, Sendable {
    /// The call and what it was attempted on.
    public let attempted: String
    public let errno: Int32

    public init(_ attempted: String, errno: Int32) {
        self.attempted = attempted
        self.errno = errno
    }

    public var description: String { "\(attempted): \(String(cString: strerror(errno)))" }
}

/// Runs a system call, retrying it while it fails with EINTR; a -1 result with any other errno
/// throws a `SystemError` naming `attempted`. Every direct system call in Weft goes through
/// this (NIO's `System.swift` is the model). Returns the call's result.
@discardableResult @inlinable
public func syscall<Result: FixedWidthInteger>(_ attempted: @autoclosure () -> String,
                                               _ call: () -> Result) throws(SystemError) -> Result {
    while true {
        let result = call()
        if result != -1 { return result }
        let error = Glibc.errno
        if error == EINTR { continue }
        throw SystemError(attempted(), errno: error)
    }
}

/// Sets a socket option (an `Int32`, a `timeval`…) through `syscall`.
public func setSocketOption<Value: BitwiseCopyable>(_ fd: Int32, level: Int32, name: Int32, value: Value,
                                   _ attempted: @autoclosure () -> String) throws(SystemError) {
    var v = value
    try syscall(attempted()) { setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Value>.size)) }
}

/// A /proc file read to its end (its size reads as 0, and the kernel hands it over a page per
/// read, so a reader that stops at the first read or at the size misses the rest); nil when it
/// cannot be opened.
public func readProcFile(_ path: String) -> String? {
    guard let fd = try? syscall("open \(path)", { open(path, O_RDONLY | O_CLOEXEC) }) else { return nil }  // no such file
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 16 << 10)
    while true {
        guard let n = try? syscall("read \(path)", { chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) } }) else { return nil }
        if n == 0 { break }
        bytes += chunk[..<n]
        guard bytes.count < 64 << 20 else { break }
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// Writes `bytes` to the file descriptor `fd` whole (EINTR retried); stops at the first error.
public func writeAll(_ fd: Int32, _ bytes: some Collection<UInt8>) {
    var rest = Array(bytes)[...]
    while !rest.isEmpty {
        let n = rest.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if n < 0, Glibc.errno == EINTR { continue }
        guard n > 0 else { return }
        rest = rest.dropFirst(n)
    }
}

/// Writes `text` to standard error without stdio: the one line a command prints before it
/// exits with a failure.
public func writeStandardError(_ text: String) { writeAll(2, text.utf8) }
