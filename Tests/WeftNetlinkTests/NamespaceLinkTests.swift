import Foundation
import Testing
import WeftNetlink
import WeftSystem

/// Runs `ip` (test set-up and inspection only; the code under test speaks netlink itself).
/// Through posix_spawn and waitpid: Foundation's `Process.waitUntilExit` was seen to wait for
/// ever on a child that had already exited, while other tests ran.
private func ip(_ args: String...) -> String {
    guard let result = try? ChildProcess.run("/usr/sbin/ip", args, environment: ProcessInfo.processInfo.environment) else {
        return ""
    }
    return String(decoding: result.output, as: UTF8.self)
}

@Suite(.enabled(if: getuid() == 0, "needs root to create network namespaces"))
struct NamespaceLinkTests {
    /// In a namespace of its own: a bridge, a veth pair with one end made inside a second
    /// namespace (named, with its MAC and MTU), a bridge port, addresses, links up, offloads by name and the largest super-frame,
    /// and deletion; creating what exists is not an error.
    @Test func plumbing() throws {
        let host = "weft-nltest-h\(getpid())", box = "weft-nltest-c\(getpid())"
        _ = ip("netns", "add", host)
        _ = ip("netns", "add", box)
        defer {
            _ = ip("netns", "del", host)
            _ = ip("netns", "del", box)
        }
        let hostNS = try NetworkNamespace(host), boxNS = try NetworkNamespace(box)
        let h = try hostNS.socket(), c = try boxNS.socket()
        #expect(try h.createBridge("weft", mtu: 1376))
        #expect(try !h.createBridge("weft", mtu: 1376))
        let mac: [UInt8] = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55]
        #expect(try h.createVeth("vethwepl1", peer: "ethwe", mtu: 1376, peerMAC: mac, peerNamespace: boxNS.descriptor))
        try h.setLink("vethwepl1", up: true, master: "weft")
        try h.setLink("weft", up: true)
        try c.addAddress(0x0A20_0005, prefix: 12, to: "ethwe")
        try c.addAddress(0x0A20_0005, prefix: 12, to: "ethwe")
        try c.setLink("ethwe", up: true)
        try c.setOffloads("ethwe") { $0 == "tx-udp-segmentation" ? false : $0 == "tx-tcp-segmentation" ? true : nil }
        try c.setGSOMaxSize("ethwe", 32768)
        let features = ip("netns", "exec", box, "ethtool", "-k", "ethwe")
        #expect(features.contains("tx-udp-segmentation: off"))
        #expect(features.contains("tx-tcp-segmentation: on"))
        #expect(ip("-n", box, "-d", "link", "show", "ethwe").contains("gso_max_size 32768"))
        let inBox = ip("-n", box, "-o", "addr", "show", "dev", "ethwe")
        #expect(inBox.contains("10.32.0.5/12"))
        #expect(ip("-n", box, "link", "show", "ethwe").contains("02:11:22:33:44:55"))
        #expect(ip("-n", box, "link", "show", "ethwe").contains("mtu 1376"))
        #expect(ip("-n", host, "link", "show", "vethwepl1").contains("master weft"))
        #expect(try c.removeAddress(0x0A20_0005, prefix: 12, from: "ethwe"))
        #expect(try !c.removeAddress(0x0A20_0005, prefix: 12, from: "ethwe"))
        #expect(try h.deleteLink("vethwepl1"))
        #expect(try c.linkIndex(named: "ethwe") == nil)
        #expect(try !h.deleteLink("vethwepl1"))
    }
}
