public import WeftMesh
public import WeftTypes

/// What a router needs of its data path: `DataPath` on a host; an in-memory one where a test
/// runs a router without namespaces. Every method is safe from any thread.
public protocol DataPlane: Sendable {
    /// The `macs` gossip channel (the router registers it with the mesh).
    var macDirectory: MACDirectoryChannel { get }
    func start()
    func stop()
    /// Stops, and removes every kernel object and the given containers' links (reset).
    func tearDown(containerLinks: [String])
    /// The mesh's neighbours and routes, after every topology change.
    func update(neighbours: [MeshNeighbour], routes: Routes)
    /// This host's containers' MACs, after every attach and detach.
    func announce(containerMACs: Set<MAC>)
    /// Once a second; `everyone` on even seconds of the wall clock (steady paths hear from us
    /// only then: every router ticks at the start of a second, so they agree on which).
    func tick(everyone: Bool)
    func status() -> DataPathStatus
    /// The neighbours whose data-path keys have sealed as much as one key should: the router
    /// renews their connections (fresh keys).
    func dueForRenewal() -> Set<PeerName>
    /// Counters as Prometheus series.
    var counters: [(name: String, labels: [(String, String)], value: Int)] { get }
    /// Throws `.noSuchNamespace` unless the namespace `spec` names can be opened.
    func checkNamespace(_ spec: String) throws(DataPathError)
    func plug(_ link: ContainerLink) throws(DataPathError)
    func unplug(_ link: ContainerLink)
    /// True while the link's host end exists (deleting a namespace deletes its veth pairs).
    func isPlugged(_ link: ContainerLink) -> Bool
    func addHostAddresses(_ addresses: [Allocation]) throws(DataPathError)
    func removeHostAddresses(_ addresses: [Allocation])
}

extension DataPath: DataPlane {
    public func dueForRenewal() -> Set<PeerName> { sleeve.dueForRenewal() }
    public func checkNamespace(_ spec: String) throws(DataPathError) { try bridge.checkNamespace(spec) }
    public func plug(_ link: ContainerLink) throws(DataPathError) { try bridge.plug(link) }
    public func unplug(_ link: ContainerLink) { bridge.unplug(link) }
    public func isPlugged(_ link: ContainerLink) -> Bool { bridge.isPlugged(link) }
    public func addHostAddresses(_ addresses: [Allocation]) throws(DataPathError) { try bridge.addHostAddresses(addresses) }
    public func removeHostAddresses(_ addresses: [Allocation]) { bridge.removeHostAddresses(addresses) }
}
