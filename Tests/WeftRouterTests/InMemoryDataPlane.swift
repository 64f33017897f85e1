import Synchronization
import WeftDataPath
import WeftMesh
import WeftTypes

/// A data path that makes no kernel object: it records what the router asks of it, so a
/// router runs in-process (its mesh and API on loopback) and its API can be checked.
final class InMemoryDataPlane: DataPlane {
    struct State {
        var started = false
        var neighbours: [MeshNeighbour] = []
        var plugged: [String: ContainerLink] = [:]
        var hostAddresses: [Allocation] = []
        var containerMACs: Set<MAC> = []
    }

    let macDirectory: MACDirectoryChannel
    /// The namespaces that "exist": plugging another fails as a missing one would.
    let namespaces: Set<String>
    let state = Mutex(State())

    init(me: PeerName, macs: GossipSender, namespaces: Set<String>) {
        macDirectory = MACDirectoryChannel(me: me, sender: macs)
        self.namespaces = namespaces
    }

    func start() { state.withLock { $0.started = true } }
    func stop() { state.withLock { $0.started = false } }
    func tearDown(containerLinks: [String]) { state.withLock { $0 = State() } }
    func update(neighbours: [MeshNeighbour], routes: Routes) { state.withLock { $0.neighbours = neighbours } }
    func announce(containerMACs: Set<MAC>) { state.withLock { $0.containerMACs = containerMACs } }
    func tick(everyone: Bool) {}

    func status() -> DataPathStatus {
        let names = state.withLock { $0.neighbours.map(\.name) }
        return DataPathStatus(fastpath: false, direct: Dictionary(names.map { ($0, true) }, uniquingKeysWith: { a, _ in a }),
                              sleeveReasons: Dictionary(names.map { ($0, "in memory") }, uniquingKeysWith: { a, _ in a }))
    }

    var counters: [(name: String, labels: [(String, String)], value: Int)] { [] }
    func dueForRenewal() -> Set<PeerName> { [] }

    func checkNamespace(_ spec: String) throws(DataPathError) {
        guard namespaces.contains(spec) else { throw DataPathError(.noSuchNamespace, "no namespace \(spec)") }
    }

    func plug(_ link: ContainerLink) throws(DataPathError) {
        try checkNamespace(link.netns)
        state.withLock { $0.plugged[link.hostLink] = link }
    }

    func unplug(_ link: ContainerLink) { _ = state.withLock { $0.plugged.removeValue(forKey: link.hostLink) } }
    func isPlugged(_ link: ContainerLink) -> Bool { state.withLock { $0.plugged[link.hostLink] != nil } }
    func addHostAddresses(_ addresses: [Allocation]) throws(DataPathError) { state.withLock { $0.hostAddresses += addresses } }
    func removeHostAddresses(_ addresses: [Allocation]) {
        state.withLock { s in s.hostAddresses.removeAll { addresses.contains($0) } }
    }
}
