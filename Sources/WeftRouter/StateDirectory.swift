public import Foundation

/// The router's state directory (`--state-dir`, env `WEFT_STATE_DIR`): the persisted peer name,
/// the pid file, and later the IPAM ring and allocations. Files are replaced atomically (write a
/// temporary file, fsync it, rename it over the old one, fsync the directory), so a crash leaves
/// either the old or the new content, never a torn one.
public struct StateDirectory: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// Creates the directory (mode 0700) if it does not exist.
    public func create() throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
    }

    public func url(_ name: String) -> URL { URL(fileURLWithPath: path).appendingPathComponent(name) }

    /// The file's content, or nil if it does not exist.
    public func read(_ name: String) -> Data? { FileManager.default.contents(atPath: url(name).path) }

    /// Replaces `name` with `data` atomically and durably.
    public func write(_ name: String, _ data: Data) throws {
        let target = url(name).path
        let temp = target + ".tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StateError("cannot write \(temp): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard writeAll(fd, data), fsync(fd) == 0 else { throw StateError("cannot write \(temp): \(String(cString: strerror(errno)))") }
        guard rename(temp, target) == 0 else { throw StateError("cannot replace \(target): \(String(cString: strerror(errno)))") }
        let dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 { fsync(dir); close(dir) }
    }

    /// Appends `data` to `name` (created if missing) and syncs it to disk before returning.
    public func append(_ name: String, _ data: Data) throws {
        let target = url(name).path
        let fd = open(target, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StateError("cannot append to \(target): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard writeAll(fd, data), fdatasync(fd) == 0 else {
            throw StateError("cannot append to \(target): \(String(cString: strerror(errno)))")
        }
    }

    private func writeAll(_ fd: Int32, _ data: Data) -> Bool {
        data.withUnsafeBytes { buf -> Bool in
            var offset = 0
            while offset < buf.count {
                let n = Foundation.write(fd, buf.baseAddress! + offset, buf.count - offset)
                if n < 0 { if errno == EINTR { continue }; return false }
                offset += n
            }
            return true
        }
    }

    public func remove(_ name: String) { try? FileManager.default.removeItem(atPath: url(name).path) }
}

/// A state-directory problem, described for the user.
public struct StateError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
