import Synchronization
import WeftNetlink
import WeftSleeve
import WeftTypes

/// What the fast path programs: in the VXLAN device's table, a MAC → the underlay address of
/// the peer behind it; in the bridge's table, MACs pinned to the VXLAN port (for peers the fast
/// path works with; the others' MACs stay learned on the sleeve's port).
struct TunnelEntries: Equatable, Sendable {
    var remote: [MAC: UInt32] = [:]
    var pinned: Set<MAC> = []
}

extension HostNetwork {
    /// Creates `vxlan-6784` afresh on the bridge (so no entry of an earlier run survives), MTU
    /// the overlay's, bridge-port learning off (its table entries are all programmed).
    func setUpFastpath() throws {
        try links.withLock { h in
            do {
                _ = try h.deleteLink(Fastpath.device)
                try h.createVXLAN(Fastpath.device, vni: Fastpath.vni, port: Fastpath.port, mtu: mtu)
                try h.setLink(Fastpath.device, up: true, master: Self.bridge)
                try h.setBridgePort(Fastpath.device, learning: false)
            } catch {
                throw StateError("cannot set up the VXLAN device \(Fastpath.device): \(error)")
            }
        }
        tunnel.withLock { $0 = TunnelEntries() }
    }

    /// Removes the VXLAN device (fast path off).
    func removeFastpath() {
        _ = links.withLock { try? $0.deleteLink(Fastpath.device) }
    }

    /// Makes the programmed entries `desired`, changing only what differs.
    func program(_ desired: TunnelEntries) {
        tunnel.withLock { installed in
            guard installed != desired else { return }
            links.withLock { h in
                for mac in installed.pinned.subtracting(desired.pinned) {
                    _ = try? h.removeBridgeEntry(mac.bytes, port: Fastpath.device)
                }
                for (mac, address) in installed.remote where desired.remote[mac] != address {
                    _ = try? h.removeTunnelEntry(mac.bytes, destination: address, device: Fastpath.device)
                }
                for (mac, address) in desired.remote where installed.remote[mac] != address {
                    do {
                        try h.addTunnelEntry(mac.bytes, destination: address, device: Fastpath.device)
                        installed.remote[mac] = address
                    } catch {
                        installed.remote[mac] = nil
                    }
                }
                for mac in desired.pinned.subtracting(installed.pinned) {
                    if (try? h.addBridgeEntry(mac.bytes, port: Fastpath.device)) != nil { installed.pinned.insert(mac) }
                }
            }
            installed.remote = installed.remote.filter { desired.remote[$0.key] == $0.value }
            installed.pinned.formIntersection(desired.pinned)
        }
    }
}
