import CMnl
import Glibc
import WeftSystem

/// A network namespace, held open by its file descriptor.
///
/// Configuring a link inside another namespace needs sockets opened there. `socket()` opens an
/// rtnetlink socket in the namespace on a thread of its own that enters it (`setns`), does
/// nothing else and ends: the socket keeps its namespace for its whole life, and no thread that
/// the Swift runtime or an event loop shares ever changes namespace.
public final class NetworkNamespace: Sendable {
    /// The open namespace file (for `IFLA_NET_NS_FD` and `setns`).
    public let descriptor: Int32
    /// How the caller named it.
    public let spec: String

    /// Opens a namespace named as `weft attach` takes it: a name under /run/netns, a path, or
    /// the PID of a process in it.
    public init(_ spec: String) throws(NetlinkError) {
        let path: String
        if spec.allSatisfy(\.isNumber), !spec.isEmpty {
            path = "/proc/\(spec)/ns/net"
        } else if spec.contains("/") {
            path = spec
        } else {
            path = "/run/netns/\(spec)"
        }
        do { descriptor = try syscall("open") { open(path, O_RDONLY | O_CLOEXEC) } } catch {
            throw NetlinkError(operation: "open network namespace \(path)", errno: error.errno)
        }
        self.spec = spec
    }

    deinit { close(descriptor) }

    /// True when `spec` names a namespace under /run/netns (so /etc/netns/NAME applies).
    public var isNamed: Bool { Self.isNamed(spec) }

    /// True when `spec` (as `weft attach` takes it) is a name under /run/netns, not a path or
    /// a PID.
    public static func isNamed(_ spec: String) -> Bool { !spec.contains("/") && !spec.allSatisfy(\.isNumber) }

    /// An rtnetlink socket inside this namespace.
    public func socket() throws(NetlinkError) -> RouteSocket {
        let fd = descriptor
        let outcome: Result<RouteSocket, NetlinkError>
        do {
            outcome = try OwnThread.run { () -> Result<RouteSocket, NetlinkError> in
                // This thread exists only to enter the namespace and open the socket there.
                do throws(SystemError) { try enterNetworkNamespace(fd) } catch {
                    return .failure(NetlinkError(operation: "enter network namespace", errno: error.errno))
                }
                return Result { () throws(NetlinkError) in try RouteSocket() }
            }
        } catch {
            throw NetlinkError(operation: "start a thread to enter the namespace", errno: error.errno)
        }
        return try outcome.get()
    }
}
