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
        var adj: [PeerName: [PeerName]] = [:]
        for (name, entry) in topology.peers {
            adj[name] = entry.connections.values.compactMap { c in
                guard c.established,
                      topology.peers[c.remote]?.connections[name]?.established == true else { return nil }
                return c.remote
            }.sorted()
        }
        adjacency = adj
        var hops: [PeerName: PeerName] = [:]
        for (node, parent) in Self.bfsParents(from: topology.localName, adjacency: adj) {
            guard let parent else { continue }
            hops[node] = parent == topology.localName ? node : hops[parent]
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
