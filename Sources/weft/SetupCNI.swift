import ArgumentParser
import FoundationEssentials
import Glibc
import WeftSystem

/// `weft setup-cni`: installs the CNI plugin as `weft` in the CNI bin directory and writes the
/// conflist of the network `weft` (the weft plugin, chained with the standard portmap plugin),
/// so `podman run --network weft` (or any CNI runtime) puts containers on the mesh.
struct SetupCNI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "setup-cni",
        abstract: "Install the CNI plugin and the conflist of the network 'weft' (--remove undoes it).")

    /// `10-NETWORK.conflist`: the runtime picks the network by the name inside, one file each.
    static func conflistName(_ network: String) -> String { "10-\(network).conflist" }

    @Option(help: "The CNI bin directory the runtime searches.")
    var binDir = "/opt/cni/bin"

    @Option(help: "The CNI config directory the runtime reads.")
    var confDir = "/etc/cni/net.d"

    @Option(help: "The network's name (what users pass as --network).")
    var network = "weft"

    @Option(help: "A subnet of the IPAM range for this network's containers (default: the range's default subnet).")
    var subnet: String?

    @Flag(help: "Remove the conflist instead, and the plugin when no other weft network's conflist is left.")
    var remove = false

    func run() throws {
        let fm = FileManager.default
        let plugin = URL(fileURLWithPath: binDir).appendingPathComponent("weft")
        let conflist = URL(fileURLWithPath: confDir).appendingPathComponent(Self.conflistName(network))
        guard !network.isEmpty, network.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw CLIError("'\(network)' is not a network name (letters, digits, - _ .)")
        }
        if remove {
            var gone = [conflist]
            let others = ((try? fm.contentsOfDirectory(atPath: confDir)) ?? []).filter {
                $0 != conflist.lastPathComponent && $0.hasSuffix(".conflist")
                    && ((try? String(contentsOfFile: confDir + "/" + $0, encoding: .utf8)) ?? "").contains(#""type": "weft""#)
            }
            if others.isEmpty { gone.append(plugin) }
            for url in gone where fm.fileExists(atPath: url.path) {
                do { try fm.removeItem(at: url) } catch { throw CLIError("cannot remove \(url.path): \(error)") }
            }
            return
        }
        if let subnet, !Self.isSubnet(subnet) { throw CLIError("'\(subnet)' is not a network like 10.32.1.0/24") }
        let source = try DaemonProcess.siblingExecutable("weft-cni")
        do {
            try fm.createDirectory(atPath: binDir, withIntermediateDirectories: true)
            try fm.createDirectory(atPath: confDir, withIntermediateDirectories: true)
            // Copied beside, then renamed over: a runtime calling the plugin meanwhile runs the
            // old or the new one, never half a file.
            let temporary = plugin.appendingPathExtension("new")
            if fm.fileExists(atPath: temporary.path) { try fm.removeItem(at: temporary) }
            try fm.copyItem(atPath: source, toPath: temporary.path)
            try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: temporary.path)
            guard rename(temporary.path, plugin.path) == 0 else {
                throw CLIError("cannot install \(plugin.path): \(String(cString: strerror(errno)))")
            }
            try Data(Self.conflist(network: network, subnet: subnet).utf8).write(to: conflist, options: .atomic)
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError("cannot install the CNI plugin: \(error)")
        }
        print(conflist.path)
    }

    static func isSubnet(_ text: String) -> Bool {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let prefix = Int(parts[1]), (1...32).contains(prefix) else { return false }
        let octets = parts[0].split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets.allSatisfy { UInt8($0) != nil }
    }

    /// The conflist: the weft plugin with its own IPAM, and portmap for `-p`.
    static func conflist(network: String, subnet: String?) -> String {
        let ipam = subnet.map { #"{"type": "weft", "subnet": "\#($0)"}"# } ?? #"{"type": "weft"}"#
        return """
        {
          "cniVersion": "1.0.0",
          "name": "\(network)",
          "plugins": [
            {
              "type": "weft",
              "ipam": \(ipam),
              "capabilities": {"aliases": true, "ips": true, "mac": true}
            },
            {
              "type": "portmap",
              "snat": true,
              "capabilities": {"portMappings": true}
            }
          ]
        }

        """
    }
}
