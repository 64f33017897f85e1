import Testing
@testable import WeftMesh
import WeftTypes

@Suite struct RoutesTests {
    static func name(_ i: Int) -> PeerName { PeerName(rawValue: UInt64(i)) }

    /// A topology from an edge list; `oneWay` edges are reported by their first end only.
    static func topology(from local: Int, edges: [(Int, Int)], oneWay: [(Int, Int)] = []) -> Topology {
        var adjacency: [Int: [Int]] = [:]
        for (a, b) in edges { adjacency[a, default: []].append(b); adjacency[b, default: []].append(a) }
        for (a, b) in oneWay { adjacency[a, default: []].append(b) }
        var t = Topology(local: PeerIdentity(name: name(local), nickname: "p\(local)", uid: 1))
        func summaries(_ i: Int) -> [ConnectionSummary] {
            (adjacency[i] ?? []).map { ConnectionSummary(remote: name($0), address: "x", outbound: true, established: true) }
        }
        _ = t.setLocalConnections(summaries(local))
        let others = Set(adjacency.keys).union(adjacency.values.flatMap { $0 }).subtracting([local])
        _ = t.merge(others.map { i in
            PeerEntry(name: name(i), nickname: "p\(i)", uid: 1, version: 2,
                      connections: Dictionary(uniqueKeysWithValues: summaries(i).map { ($0.remote, $0) })).fullUpdate
        })
        return t
    }

    /// Line 1-2-3-4: everything goes through 2.
    @Test func line() {
        let r = Routes(topology: Self.topology(from: 1, edges: [(1, 2), (2, 3), (3, 4)]))
        #expect(r.unicast == [Self.name(2): Self.name(2), Self.name(3): Self.name(2), Self.name(4): Self.name(2)])
    }

    /// Diamond 1-{2,3}-4: two equal paths; the tie goes to the lower name, on every peer.
    @Test func diamondTieBreak() {
        let edges = [(1, 3), (1, 2), (3, 4), (2, 4)]
        #expect(Routes(topology: Self.topology(from: 1, edges: edges)).unicast[Self.name(4)] == Self.name(2))
        #expect(Routes(topology: Self.topology(from: 4, edges: edges)).unicast[Self.name(1)] == Self.name(2))
    }

    /// A connection only one end reports is not used.
    @Test func asymmetricConnectionsAreIgnored() {
        let r = Routes(topology: Self.topology(from: 1, edges: [(1, 2), (2, 3)], oneWay: [(1, 3)]))
        #expect(r.unicast[Self.name(3)] == Self.name(2))
    }

    /// Broadcast trees: from every source, every peer receives exactly once, and every peer
    /// computes the same tree.
    @Test func broadcastReachesEveryPeerOnce() {
        let edges = [(1, 2), (1, 3), (2, 3), (2, 4), (3, 5), (4, 5), (5, 6), (4, 6), (6, 7)]
        let routes = (1...7).map { Routes(topology: Self.topology(from: $0, edges: edges)) }
        for source in 1...7 {
            var received: [Int: Int] = [source: 1]
            var frontier = [source]
            while let at = frontier.popLast() {
                for hop in routes[at - 1].broadcastNextHops(from: Self.name(source)) {
                    let i = Int(hop.rawValue)
                    received[i, default: 0] += 1
                    frontier.append(i)
                }
            }
            #expect(received.count == 7 && received.values.allSatisfy { $0 == 1 }, "source \(source): \(received)")
        }
    }

    /// Unreachable peers have no route.
    @Test func unreachable() {
        let r = Routes(topology: Self.topology(from: 1, edges: [(1, 2), (3, 4)]))
        #expect(r.unicast[Self.name(3)] == nil)
    }
}
