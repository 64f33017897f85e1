/// A CNI error object (spec 1.0 "Error"): what the plugin prints on stdout with exit status 1.
/// The codes below 100 are the spec's; the runtime shows `msg` to the user.
public struct CNIError: Error, Codable, Equatable, Sendable, CustomStringConvertible {
    public var cniVersion: String
    public var code: Int
    public var msg: String
    public var details: String?

    /// The spec's well-known codes that this plugin gives.
    public enum Code: Int, Sendable {
        case incompatibleVersion = 1
        case unsupportedField = 2
        case unknownContainer = 3
        case invalidEnvironment = 4
        case ioFailure = 5
        case decodingFailure = 6
        case invalidConfig = 7
        case tryAgainLater = 11
        case pluginNotAvailable = 50
        /// Plugin-specific: the router refused the call (its message says why).
        case routerRefused = 100
        /// Plugin-specific: CHECK found the container not as its previous result says.
        case checkFailed = 101
    }

    public init(_ code: Code, _ msg: String, details: String? = nil, cniVersion: String = CNIVersion.latest) {
        self.cniVersion = cniVersion
        self.code = code.rawValue
        self.msg = msg
        self.details = details
    }

    public var description: String { details.map { "\(msg): \($0)" } ?? msg }
}

/// The spec versions this plugin speaks.
public enum CNIVersion {
    public static let supported = ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]
    public static let latest = "1.1.0"

    /// True for the versions whose results carry `ips[].version` (before 1.0.0).
    static func isLegacy(_ v: String) -> Bool { v.hasPrefix("0.") }

    /// True for versions that have CHECK (0.4.0 and later).
    static func hasCheck(_ v: String) -> Bool { v != "0.3.0" && v != "0.3.1" }
}
