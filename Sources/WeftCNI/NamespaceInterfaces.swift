#if canImport(Glibc)
import Glibc
#endif
import WeftSystem
import WeftTypes

/// The interfaces of another network namespace, for CHECK: the plugin's one thread enters it
/// (`setns`) and lists them with getifaddrs. The plugin is a short-lived single-threaded
/// process and makes no router call after this, so entering the namespace is safe here.
enum NamespaceInterfaces {
    struct Interface: Equatable {
        var name: String
        var mac: String?
        var cidrs: [String]
    }

    static func read(netns path: String) throws(SystemError) -> [Interface] {
        let fd = try syscall("open \(path)") { open(path, O_RDONLY | O_CLOEXEC) }
        defer { close(fd) }
        try enterNetworkNamespace(fd)
        var list: UnsafeMutablePointer<ifaddrs>?
        _ = try syscall("getifaddrs") { getifaddrs(&list) }
        defer { freeifaddrs(list) }
        var byName: [String: Interface] = [:]
        var order: [String] = []
        var cursor = list
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            let name = String(cString: entry.pointee.ifa_name)
            if byName[name] == nil { byName[name] = Interface(name: name, cidrs: []); order.append(name) }
            guard let address = entry.pointee.ifa_addr else { continue }
            switch Int32(address.pointee.sa_family) {
            case AF_INET:
                let ip = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt32(bigEndian: $0.pointee.sin_addr.s_addr) }
                let mask = entry.pointee.ifa_netmask.map {
                    $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt32(bigEndian: $0.pointee.sin_addr.s_addr) }
                } ?? 0
                byName[name]?.cidrs.append(IPv4.format(ip) + "/" + String(mask.nonzeroBitCount))
            case AF_PACKET:
                // struct sockaddr_ll: sll_halen at byte 11, sll_addr (8 bytes) from byte 12.
                let raw = UnsafeRawPointer(address)
                let length = Int(raw.load(fromByteOffset: 11, as: UInt8.self))
                let bytes = (0..<min(length, 8)).map { raw.load(fromByteOffset: 12 + $0, as: UInt8.self) }
                if bytes.count == 6 { byName[name]?.mac = MAC(rawValue: bytes.reduce(0) { $0 << 8 | UInt64($1) }).description }
            default:
                break
            }
        }
        return order.compactMap { byName[$0] }
    }
}
