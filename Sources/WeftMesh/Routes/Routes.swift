public import WeftTypes

/// Routes computed from a topology, from the point of view of one peer.
///
/// Only connections that both ends report as established count (a half-reported connection may
/// be one whose other end has already gone). Paths are shortest by hop count, found by
/// breadth-first search that visits each level in ascending peer-name order, so every peer that
/// holds the same topology computes the same routes and trees.
public struct Routes: Sendable, Equatable {
    /// The peer these routes start from.
    public let localName: PeerName
    /// For every reachable peer, the neighbour to send to.
    public let unicast: [PeerName: PeerName]
    /// Symmetric established adjacency, sorted, kept for broadcast trees.
    public let adjacency: [PeerName: [PeerName]]

    public init(topology: Topology) {
        localName = topology.localName
        let links = topology.links
        // Each peer's confirmed links as slots in name order (the slots sorted by name once,
        // each peer's links picked from that order: no sort per peer), and the same as names.
        let order = links.names.indices.filter({ links.names[$0] != nil }).sorted(by: { links.names[$0]! < links.names[$1]! })
        var linked = [[Int]](repeating: [], count: links.names.count)
        var adj: [PeerName: [PeerName]] = [:]
        adj.reserveCapacity(topology.peers.count)
        for name in topology.peers.keys {
            guard let i = links.slot(of: name) else { continue }
            let confirmed = links.confirmedSet(i)
            let others = order.filter { LinkMatrix.contains(confirmed, $0) }
            linked[i] = others
            adj[name] = others.map { links.names[$0]! }
        }
        adjacency = adj
        // Breadth first from here, each level in name order (as `bfsParents`).
        var hops: [PeerName: PeerName] = [:]
        guard let root = links.slot(of: topology.localName) else { unicast = hops; return }
        var hop = [Int](repeating: -1, count: links.names.count)
        var seen = [Bool](repeating: false, count: links.names.count)
        var queue = [root]
        seen[root] = true
        var next = 0
        while next < queue.count {
            let node = queue[next]
            next += 1
            for other in linked[node] where !seen[other] {
                seen[other] = true
                hop[other] = node == root ? other : hop[node]
                hops[links.names[other]!] = links.names[hop[other]]!
                queue.append(other)
            }
        }
        unicast = hops
    }

    /// The neighbours this peer forwards a broadcast from `source` to: its children in the
    /// breadth-first tree rooted at `source`. Every peer computes the same tree, so each
    /// reachable peer receives a broadcast exactly once.
    public func broadcastNextHops(from source: PeerName) -> [PeerName] {
        Self.bfsParents(from: source, adjacency: adjacency).compactMap { node, parent in
            parent == localName ? node : nil
        }
    }

    /// Peers reachable from here (not counting this one).
    public var reachable: Set<PeerName> { Set(unicast.keys) }

    /// Breadth-first order from `root`, each node with the node it was first reached from.
    static func bfsParents(from root: PeerName, adjacency: [PeerName: [PeerName]]) -> [(PeerName, PeerName?)] {
        var order: [(PeerName, PeerName?)] = [(root, nil)]
        var seen: Set<PeerName> = [root]
        var index = 0
        while index < order.count {
            let node = order[index].0
            index += 1
            for next in adjacency[node] ?? [] where !seen.contains(next) {
                seen.insert(next)
                order.append((next, node))
            }
        }
        return order
    }

    public static func == (lhs: Routes, rhs: Routes) -> Bool {
        lhs.localName == rhs.localName && lhs.unicast == rhs.unicast && lhs.adjacency == rhs.adjacency
    }
}
