// The gossip simulation: N routers' pure mesh logic (topology, gossip, routes) over an
// in-memory transport, delivered in rounds. Reports what forming the mesh costs and what one
// change costs once it has converged, each against the least possible: every peer receiving
// every change once, all of it in one message (the deltas of the entries that changed; a
// joining peer also every other entry whole).
//
//   swift run -c release weft-gossip-sim [N ...]      (default: 100 1000)
//
// Graphs: the full mesh (N ≤ 100), its connections coming up one after the other; and a mesh
// under a connection limit of 50, its peers joining one after the other, each connecting to
// up to 25 random peers already in that still have room (about 50 connections per peer).
import Foundation
import NIOCore
import WeftMesh
import WeftTesting
import WeftTypes

func name(_ i: Int) -> PeerName { PeerName(rawValue: UInt64(i)) }

/// Prints a line at once (stdout may be a pipe).
func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

/// Bytes on the wire of one topology update message carrying `entries` (and its frame length).
func wireBytes(_ entries: [TopologyEntry]) -> Int {
    guard !entries.isEmpty else { return 0 }
    var payload = ByteBuffer()
    TopologyMessage.update(entries).encode(into: &payload)
    var buffer = ByteBuffer()
    MeshMessage.gossip(channel: MeshNode.topologyChannel, source: name(1), payload: payload).encode(into: &buffer)
    return buffer.readableBytes + 4
}

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

/// The mesh under test, with the cost of each change measured against the least possible.
struct Run {
    var mesh = InMemoryMesh()
    var rng: SplitMix64
    var uids: [Int: UInt64] = [:]

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    /// What one change cost and the least it could have.
    struct Cost {
        var rounds = 0
        var messages = 0
        var bytes = 0
        var least = 0
        mutating func add(_ other: Cost) {
            rounds += other.rounds; messages += other.messages; bytes += other.bytes; least += other.least
        }
        var ratio: Double { least == 0 ? 0 : Double(bytes) / Double(least) }
    }

    /// Runs `change`, then the mesh until quiet; the least possible is every other peer getting
    /// the changed entries once, and a peer that `joined` every entry.
    mutating func measure(joined: PeerName? = nil, _ change: (inout InMemoryMesh) -> Void) -> Cost {
        let before = mesh.nodes.values.first { $0.identity.name != joined }?.topology.peers ?? [:]
        mesh.resetCounters()
        change(&mesh)
        let rounds = mesh.run()
        var cost = Cost(rounds: rounds, messages: mesh.messages, bytes: mesh.bytes)
        guard let after = mesh.nodes.values.first(where: { $0.identity.name != joined })?.topology.peers else { return cost }
        var changed: [TopologyEntry] = []
        for (peer, entry) in after.sorted(by: { $0.key < $1.key }) {
            guard let old = before[peer] else { changed.append(entry.fullUpdate); continue }
            if old.version != entry.version || old.uid != entry.uid {
                changed.append(old.uid == entry.uid ? entry.update(from: old.version) : entry.fullUpdate)
            }
        }
        cost.least = (mesh.nodes.count - 1) * wireBytes(changed)
        if let joined {
            cost.least += wireBytes(after.values.filter { $0.name != joined }.map(\.fullUpdate))
        }
        return cost
    }

    /// The UID of peer `i`'s next incarnation.
    mutating func nextUID(_ i: Int) -> UInt64 {
        let uid = (uids[i] ?? 0) + 1
        uids[i] = uid
        return uid
    }
}

func row(_ n: Int, _ graph: String, _ edges: Int, formation: Run.Cost, down: [Run.Cost], up: [Run.Cost],
         leave: [Run.Cost], consistent: Bool) -> String {
    func med(_ costs: [Run.Cost]) -> String {
        let bytes = Int(median(costs.map { Double($0.bytes) }))
        let ratio = median(costs.map(\.ratio))
        return "\(Int(median(costs.map { Double($0.rounds) }))) | \(bytes) | \(String(format: "%.2f", ratio))"
    }
    return "| \(n) | \(graph) | \(edges) | \(formation.messages) | \(formation.bytes) | \(formation.least) | "
        + String(format: "%.2f", formation.ratio) + " | \(med(down)) | \(med(up)) | \(med(leave)) | \(consistent) |"
}

let sizes = CommandLine.arguments.dropFirst().compactMap { Int($0) }
say("| N | graph | connections | formation messages | formation bytes | least possible | ratio "
    + "| link down: rounds | bytes | ratio | link up: rounds | bytes | ratio | peer leaves: rounds | bytes | ratio "
    + "| converged, routes loop-free |")
say("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for n in sizes.isEmpty ? [100, 1000] : sizes {
    for limit in n <= 100 ? [0, 50] : [50] where limit == 0 || n > limit {
        var run = Run(seed: UInt64(n * 1000 + limit))
        var formation = Run.Cost()
        var links: [(Int, Int)] = []
        if limit == 0 {
            for i in 1...n { run.mesh.addPeer(name(i), uid: run.nextUID(i)) }
            for a in 1...n { for b in (a + 1)..<(n + 1) { links.append((a, b)) } }
            links.shuffle(using: &run.rng)
            for (a, b) in links { formation.add(run.measure { $0.connect(name(a), name(b)) }) }
        } else {
            var degree = [Int](repeating: 0, count: n + 1)
            for i in 1...n {
                let room = (1..<i).filter { degree[$0] < limit }.shuffled(using: &run.rng).prefix(limit / 2)
                for j in room { links.append((i, j)); degree[i] += 1; degree[j] += 1 }
                let uid = run.nextUID(i)
                formation.add(run.measure(joined: name(i)) { mesh in
                    mesh.addPeer(name(i), uid: uid)
                    for j in room { mesh.connect(name(i), name(j)) }
                })
            }
        }
        let formed = run.mesh.converged
        // Changes once formed: a random connection goes down, then comes back up (an up change
        // includes the digest exchange every new connection starts with); a peer leaves (then
        // comes back as a new incarnation, not measured).
        var down: [Run.Cost] = [], up: [Run.Cost] = [], leave: [Run.Cost] = []
        for _ in 0..<10 {
            let (a, b) = links.randomElement(using: &run.rng)!
            down.append(run.measure { $0.disconnect(name(a), name(b)) })
            up.append(run.measure { $0.connect(name(a), name(b)) })
        }
        for _ in 0..<5 {
            let gone = Int.random(in: 1...n, using: &run.rng)
            leave.append(run.measure { $0.removePeer(name(gone)) })
            let uid = run.nextUID(gone)
            _ = run.measure(joined: name(gone)) { mesh in
                mesh.addPeer(name(gone), uid: uid)
                for (a, b) in links where a == gone || b == gone { mesh.connect(name(a), name(b)) }
            }
        }
        let consistent = formed && run.mesh.converged && routesConsistent(run.mesh, samples: 2000, rng: &run.rng)
        let graph = limit == 0 ? "full mesh" : "conn-limit \(limit)"
        say(row(n, graph, links.count, formation: formation, down: down, up: up, leave: leave, consistent: consistent))
    }
}
