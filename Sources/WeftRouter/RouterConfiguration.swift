import FoundationEssentials
import Glibc
import WeftCrypto
import WeftDataPath
public import WeftMesh
public import WeftOptions
import WeftTypes

/// Everything the router needs, resolved from the flags, the environment and the state
/// directory (where the peer name persists across restarts).
public struct RouterConfiguration: Sendable {
    public var mesh: MeshConfiguration
    public var stateDirectory: StateDirectory
    public var initialPeers: [String]
    public var apiHost = "127.0.0.1"
    public var apiPort = 6784
    /// The flags, parsed.
    public var settings: RouterSettings

    /// Resolves `options`. Stretching a password takes a moment and 64 MiB, once.
    public init(options: RouterOptions, environment: [String: String]) throws {
        let settings: RouterSettings
        do { settings = try options.settings(environment: environment) } catch { throw StateError(error.description) }
        self.settings = settings
        stateDirectory = StateDirectory(path: settings.stateDirectory)
        try stateDirectory.create()
        let name: PeerName
        if let given = settings.name {
            name = given
        } else if let data = stateDirectory.read("peer-name"),
                  let text = String(data: data, encoding: .utf8),
                  let stored = PeerName(text.trimmed) {
            name = stored
        } else {
            var rng = SystemRandomNumberGenerator()
            name = PeerName.random(using: &rng)
        }
        try stateDirectory.write("peer-name", Data("\(name)\n".utf8))
        let nickname = settings.nickname ?? ProcessInfo.processInfo.hostName
        var mesh = MeshConfiguration(identity: PeerIdentity(name: name, nickname: nickname, uid: secureRandomUInt64()))
        mesh.port = settings.port
        mesh.connLimit = settings.connLimit
        mesh.discovery = settings.discovery
        let password = try options.resolvedPassword(environment: environment) { path in
            do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw StateError("cannot read password file \(path)")
            }
        }
        if let password { mesh.password = try PasswordKey(password: password) }
        let fastpath = DataPath.Configuration.runsFastpath(fastdp: settings.fastdp, sealed: password != nil,
                                                           trusted: settings.trustedSubnets)
        mesh.capabilities = fastpath ? ["sleeve", FastpathPlan.capability] : ["sleeve"]
        // The sleeve seals with AES-256-GCM towards peers that can too (docs/sleeve.md).
        if AEADKey.aes256GCMAvailable { mesh.capabilities.append(DataPath.aesCapability) }
        self.mesh = mesh
        initialPeers = settings.peers
    }
}
