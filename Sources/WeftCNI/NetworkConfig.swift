import FoundationEssentials

/// The network configuration a runtime sends on stdin: the plugin's object from the conflist,
/// with `name`, `cniVersion`, `runtimeConfig` for the capabilities it declares, and
/// `prevResult` (DEL, CHECK, and plugins chained after another).
public struct NetworkConfig: Decodable, Sendable {
    public var cniVersion: String
    public var name: String
    public var type: String
    public var ipam: IPAM?
    public var runtimeConfig: RuntimeConfig?
    public var prevResult: CNIResult?
    /// GC: the attachments the runtime still has.
    public var validAttachments: [Attachment]?

    public struct Attachment: Decodable, Sendable {
        public var containerID: String
        public var ifname: String
    }

    enum CodingKeys: String, CodingKey {
        case cniVersion, name, type, ipam, runtimeConfig, prevResult
        case validAttachments = "cni.dev/valid-attachments"
    }

    /// The `ipam` object. With `type: weft` the addresses come from the router's IPAM;
    /// `subnet` picks a subnet inside its range (default: the range's default subnet).
    public struct IPAM: Decodable, Sendable {
        public var type: String
        public var subnet: String?
        /// Routes to add to the result (IPAM mode: for the network plugin that asked).
        public var routes: [CNIResult.Route]?
    }

    /// The capabilities' arguments (only those the conflist declares are sent).
    public struct RuntimeConfig: Decodable, Sendable {
        /// Network name → aliases (podman `--network-alias`, plus its short ID).
        public var aliases: [String: [String]]?
        /// The `ips` capability: requested addresses.
        public var ips: [String]?
        /// The `mac` capability.
        public var mac: String?
    }

    /// Reads and checks a configuration: a decode failure is code 6, a version this plugin
    /// does not speak code 1, a missing name code 7.
    public static func decode(_ bytes: [UInt8]) throws(CNIError) -> NetworkConfig {
        let config: NetworkConfig
        do { config = try JSONDecoder().decode(NetworkConfig.self, from: Data(bytes)) } catch {
            throw CNIError(.decodingFailure, "the network configuration is not valid JSON for a CNI plugin",
                           details: "\(error)")
        }
        guard CNIVersion.supported.contains(config.cniVersion) else {
            throw CNIError(.incompatibleVersion,
                           "CNI version \(config.cniVersion) is not supported (this plugin speaks \(CNIVersion.supported.joined(separator: ", ")))")
        }
        guard !config.name.isEmpty else { throw CNIError(.invalidConfig, "the network configuration has no name") }
        return config
    }
}
