// The gossip simulation: N routers' pure mesh logic (topology, gossip, routes) over an
// in-memory transport, delivered in rounds. Reports what forming the mesh costs and what one
// change costs once it has converged, against N·log2(N).
//
//   swift run -c release weft-gossip-sim [N ...]      (default: 100 1000)
import Foundation
import WeftMesh
import WeftTesting
import WeftTypes

struct Graph {
    var edges: [(Int, Int)] = []

    /// A connected random graph: a random spanning tree plus random extra edges, about
    /// `degree` per peer (or the full mesh when N is small enough).
    static func random(n: Int, degree: Int, rng: inout SplitMix64) -> Graph {
        var g = Graph()
        var seen = Set<[Int]>()
        func add(_ a: Int, _ b: Int) {
            guard a != b, seen.insert([min(a, b), max(a, b)]).inserted else { return }
            g.edges.append((a, b))
        }
        if degree >= n - 1 {
            for a in 1...n { for b in (a + 1)...max(a + 1, n) where b <= n { add(a, b) } }
            return g
        }
        for i in 2...n { add(i, Int.random(in: 1..<i, using: &rng)) }
        while g.edges.count < n * degree / 2 {
            add(Int.random(in: 1...n, using: &rng), Int.random(in: 1...n, using: &rng))
        }
        g.edges.shuffle(using: &rng)
        return g
    }
}

func name(_ i: Int) -> PeerName { PeerName(rawValue: UInt64(i)) }

/// Following next hops from every peer reaches every other peer without a loop.
func routesConsistent(_ mesh: InMemoryMesh, samples: Int, rng: inout SplitMix64) -> Bool {
    let names = mesh.nodes.keys.sorted()
    for _ in 0..<samples {
        let from = names.randomElement(using: &rng)!, to = names.randomElement(using: &rng)!
        var at = from
        var hops = 0
        while at != to {
            guard let next = mesh.nodes[at]?.routes.unicast[to], hops < names.count else { return false }
            at = next
            hops += 1
        }
    }
    return true
}

func median(_ xs: [Int]) -> Int { xs.sorted()[xs.count / 2] }

/// Prints a line at once (stdout may be a pipe).
func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

/// What one change cost.
struct Sample {
    var rounds: Int
    var messages: Int
    var bytes: Int
}

/// "rounds | messages | bytes | bytes/(N·log2 N)", medians of `samples`.
func summary(_ samples: [Sample], n: Int) -> String {
    let bytes = median(samples.map(\.bytes))
    let nlogn = Double(n) * log2(Double(n))
    let ratio = Int((Double(bytes) / nlogn).rounded())
    let rounds = median(samples.map(\.rounds))
    let messages = median(samples.map(\.messages))
    return "\(rounds) | \(messages) | \(bytes) | \(ratio)"
}

let sizes = CommandLine.arguments.dropFirst().compactMap { Int($0) }
say("| N | graph | edges | formation rounds | formation messages | formation bytes "
    + "| link down: rounds | messages | bytes | bytes/(N·log2 N) "
    + "| link up: rounds | messages | bytes | bytes/(N·log2 N) | converged, routes loop-free |")
say("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for n in sizes.isEmpty ? [100, 1000] : sizes {
    for degree in n <= 100 ? [n - 1, 8] : [8] {
        var rng = SplitMix64(seed: UInt64(n * 1000 + degree))
        let graph = Graph.random(n: n, degree: degree, rng: &rng)
        var mesh = InMemoryMesh()
        for i in 1...n { mesh.addPeer(name(i)) }
        // Formation: the connections come up one per round, in random order, while gossip flows.
        for (a, b) in graph.edges {
            mesh.connect(name(a), name(b))
            mesh.step()
        }
        mesh.run()
        let formation = "\(mesh.rounds) | \(mesh.messages) | \(mesh.bytes)"
        let formed = mesh.converged
        // Changes: a random connection goes down, then comes back up (an up change includes the
        // digest exchange every new connection starts with).
        var down: [Sample] = []
        var up: [Sample] = []
        for _ in 0..<10 {
            let (a, b) = graph.edges.randomElement(using: &rng)!
            mesh.resetCounters()
            mesh.disconnect(name(a), name(b))
            let r1 = mesh.run()
            down.append(Sample(rounds: r1, messages: mesh.messages, bytes: mesh.bytes))
            mesh.resetCounters()
            mesh.connect(name(a), name(b))
            let r2 = mesh.run()
            up.append(Sample(rounds: r2, messages: mesh.messages, bytes: mesh.bytes))
        }
        let consistent = formed && mesh.converged && routesConsistent(mesh, samples: 2000, rng: &rng)
        let label = degree >= n - 1 ? "full mesh" : "random, degree \(degree)"
        let changes = summary(down, n: n) + " | " + summary(up, n: n)
        say("| \(n) | " + label + " | \(graph.edges.count) | " + formation + " | " + changes + " | \(consistent) |")
    }
}
