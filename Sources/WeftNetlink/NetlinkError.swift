import Glibc

/// A failed rtnetlink call: what was attempted and the kernel's errno.
public struct NetlinkError: Error, CustomStringConvertible {
    public let operation: String
    public let errno: Int32

    public var description: String {
        "\(operation): \(String(cString: strerror(errno)))"
    }
}
