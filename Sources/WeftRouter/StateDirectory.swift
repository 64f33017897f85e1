public import FoundationEssentials
import Glibc
import WeftSystem

/// The router's state directory (`--state-dir`, env `WEFT_STATE_DIR`): the persisted peer name,
/// the pid file, the IPAM ring and allocations, the DNS records and the attached containers.
/// Files are replaced atomically (write a temporary file, fsync it, rename it over the old one,
/// fsync the directory), so a crash leaves either the old or the new content, never a torn one.
public struct StateDirectory: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// Creates the directory if it does not exist, and makes it 0700 whatever it was (it holds
    /// the peer name and the allocations; nobody else needs to read them, let alone write).
    public func create() throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        do { try syscall("chmod 0700 \(path)") { chmod(path, 0o700) } } catch { throw StateError("\(error)") }
    }

    public func url(_ name: String) -> URL { URL(fileURLWithPath: path).appendingPathComponent(name) }

    /// The file's content, or nil if it does not exist.
    public func read(_ name: String) -> Data? { FileManager.default.contents(atPath: url(name).path) }

    /// Replaces `name` with `data` atomically and durably.
    public func write(_ name: String, _ data: Data) throws {
        let target = url(name).path
        let temp = target + ".tmp"
        do {
            // A new file, never through a link someone put there: a stale temporary file (a crash
            // mid-write) is removed first, and O_EXCL|O_NOFOLLOW refuse anything else.
            if unlink(temp) != 0 && errno != ENOENT { throw SystemError("unlink \(temp)", errno: errno) }
            let fd = try syscall("open \(temp)") { open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600) }
            defer { close(fd) }
            try writeAll(fd, data, to: temp)
            try syscall("fsync \(temp)") { fsync(fd) }
            try syscall("rename \(temp) to \(target)") { rename(temp, target) }
            // The rename is durable once the directory is synced too.
            let dir = try syscall("open \(path)") { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
            defer { close(dir) }
            try syscall("fsync \(path)") { fsync(dir) }
        } catch {
            throw StateError("cannot write \(target): \(error)")
        }
    }

    /// Appends `data` to `name` (created if missing) and syncs it to disk before returning.
    public func append(_ name: String, _ data: Data) throws {
        let target = url(name).path
        do {
            let fd = try syscall("open \(target)") { open(target, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0o600) }
            defer { close(fd) }
            try writeAll(fd, data, to: target)
            try syscall("fdatasync \(target)") { fdatasync(fd) }
        } catch {
            throw StateError("cannot append to \(target): \(error)")
        }
    }

    private func writeAll(_ fd: Int32, _ data: Data, to path: String) throws(SystemError) {
        let result = data.withUnsafeBytes { buf -> Result<Void, SystemError> in
            guard let base = buf.baseAddress else { return .success(()) }
            var offset = 0
            while offset < buf.count {
                do throws(SystemError) {
                    offset += try syscall("write \(path)") { Glibc.write(fd, base + offset, buf.count - offset) }
                } catch {
                    return .failure(error)
                }
            }
            return .success(())
        }
        try result.get()
    }

    /// Removes `name`; one that does not exist is already what the caller wants.
    public func remove(_ name: String) { try? FileManager.default.removeItem(atPath: url(name).path) }
}

/// A state-directory problem, described for the user.
public struct StateError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
