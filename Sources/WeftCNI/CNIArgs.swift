/// `CNI_ARGS`: `KEY=VALUE` pairs separated by `;` (`IgnoreUnknown=1;K8S_POD_NAME=web;IP=10.32.0.9`).
/// Podman passes `--ip` and `--mac-address` only here, and the container's name as K8S_POD_NAME.
public struct CNIArgs: Equatable, Sendable {
    public private(set) var values: [String: String] = [:]

    /// Parses the variable; a pair without `=` or with an empty key is an error (code 4).
    public init(_ text: String?) throws(CNIError) {
        for pair in (text ?? "").split(separator: ";", omittingEmptySubsequences: true) {
            guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else {
                throw CNIError(.invalidEnvironment, "CNI_ARGS: '\(pair)' is not KEY=VALUE")
            }
            values[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
        }
    }

    public subscript(_ key: String) -> String? { values[key].flatMap { $0.isEmpty ? nil : $0 } }

    /// The name the runtime gives the container (podman: the container or pod name).
    public var podName: String? { self["K8S_POD_NAME"] }
    /// `IP=a.b.c.d` (podman `--ip`, `network reload`), maybe with a prefix length.
    public var ip: String? { self["IP"] }
    /// `MAC=aa:bb:…` (podman `--mac-address`, `network reload`).
    public var mac: String? { self["MAC"] }
}
