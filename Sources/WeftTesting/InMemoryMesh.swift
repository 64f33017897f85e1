public import NIOCore
public import WeftMesh
public import WeftTypes

/// Many `MeshNode`s joined by an in-memory transport: messages queue per round and are
/// delivered in rounds, so tests and the gossip simulation see exactly what a change costs
/// (rounds, messages, bytes) with no sockets and no clocks.
public struct InMemoryMesh {
    public private(set) var nodes: [PeerName: MeshNode] = [:]
    /// Messages in flight: (from, to, message).
    private var inFlight: [(PeerName, PeerName, MeshMessage)] = []
    private var flushes: Set<PeerName> = []
    /// Nodes whose topology changed since their last `settle()`.
    private var settles: Set<PeerName> = []
    /// Edges currently connected.
    public private(set) var links: Set<Link> = []
    public private(set) var messages = 0
    public private(set) var bytes = 0
    public private(set) var rounds = 0
    /// Topology entries (whole or delta) each peer received in update messages, by origin.
    public private(set) var entriesReceived: [PeerName: [PeerName: Int]] = [:]

    /// An undirected connection between two peers.
    public struct Link: Hashable, Sendable {
        public let a: PeerName
        public let b: PeerName
        public init(_ x: PeerName, _ y: PeerName) { (a, b) = x < y ? (x, y) : (y, x) }
    }

    public init() {}

    /// Adds a peer named `name` (nickname `p<raw>`), seeded deterministically.
    public mutating func addPeer(_ name: PeerName, uid: UInt64 = 1) {
        nodes[name] = MeshNode(identity: PeerIdentity(name: name, nickname: "p\(name.rawValue)", uid: uid),
                               seed: name.rawValue &* 0x9E37_79B9 &+ uid)
    }

    /// Connects `a` (dialling) and `b`, as two finished handshakes.
    public mutating func connect(_ a: PeerName, _ b: PeerName) {
        guard let na = nodes[a], let nb = nodes[b], !links.contains(Link(a, b)) else { return }
        links.insert(Link(a, b))
        let outA = nodes[a]!.connectionUp(ConnectionSummary(remote: b, address: "10.0.0.\(b.rawValue):6783",
                                                            outbound: true, established: true), remoteUID: nb.identity.uid)
        collect(outA, from: a)
        let outB = nodes[b]!.connectionUp(ConnectionSummary(remote: a, address: "10.0.0.\(a.rawValue):40000",
                                                            outbound: false, established: true), remoteUID: na.identity.uid)
        collect(outB, from: b)
    }

    /// Closes the connection between `a` and `b`; messages in flight on it are lost.
    public mutating func disconnect(_ a: PeerName, _ b: PeerName) {
        guard links.remove(Link(a, b)) != nil else { return }
        inFlight.removeAll { Link($0.0, $0.1) == Link(a, b) }
        if nodes[a] != nil { collect(nodes[a]!.connectionDown(b), from: a) }
        if nodes[b] != nil { collect(nodes[b]!.connectionDown(a), from: b) }
    }

    /// Removes a peer and all its connections (a crash).
    public mutating func removePeer(_ name: PeerName) {
        for link in links where link.a == name || link.b == name { disconnect(link.a, link.b) }
        nodes[name] = nil
    }

    /// Delivers everything in flight (one round), then runs the flushes the nodes asked for.
    /// Returns false when nothing was left to do.
    @discardableResult
    public mutating func step() -> Bool {
        let batch = inFlight
        let toFlush = flushes
        inFlight.removeAll()
        flushes.removeAll()
        guard !batch.isEmpty || !toFlush.isEmpty else { return false }
        rounds += 1
        for (from, to, message) in batch where nodes[to] != nil && links.contains(Link(from, to)) {
            if case let .gossip(channel, _, payload) = message, channel == MeshNode.topologyChannel {
                var copy = payload
                if case let .update(entries)? = try? TopologyMessage.decode(&copy) {
                    for e in entries { entriesReceived[to, default: [:]][e.name, default: 0] += 1 }
                }
            }
            collect(nodes[to]!.receive(message, from: from), from: to)
        }
        for name in toFlush.sorted() where nodes[name] != nil { collect(nodes[name]!.flush(), from: name) }
        return true
    }

    /// Steps until quiet (or `limit` rounds), then lets every node that saw a change settle
    /// (as routers do a moment after the last change) and steps on, until nothing changes;
    /// returns the rounds taken.
    @discardableResult
    public mutating func run(limit: Int = 10_000) -> Int {
        let start = rounds
        while rounds - start < limit {
            if step() { continue }
            guard !settles.isEmpty else { break }
            let due = settles.sorted()
            settles.removeAll()
            for name in due where nodes[name] != nil { collect(nodes[name]!.settle(), from: name) }
        }
        return rounds - start
    }

    /// Registers `channel` on peer `name`.
    public mutating func register(_ channel: any GossipChannel, on name: PeerName) {
        nodes[name]?.register(channel)
    }

    /// Peer `name` gossips `payload` on `channel`.
    public mutating func gossip(from name: PeerName, channel: String, payload: ByteBuffer) {
        guard let out = nodes[name]?.gossip(channel: channel, payload: payload) else { return }
        collect(out, from: name)
    }

    /// Peer `name` sends `payload` to `destination` along unicast routes.
    public mutating func unicast(from name: PeerName, to destination: PeerName, channel: String, payload: ByteBuffer) {
        guard let out = nodes[name]?.unicast(channel: channel, to: destination, payload: payload) else { return }
        collect(out, from: name)
    }

    /// Peer `name` broadcasts `payload` on `channel`.
    public mutating func broadcast(from name: PeerName, channel: String, payload: ByteBuffer) {
        guard let out = nodes[name]?.broadcast(channel: channel, payload: payload) else { return }
        collect(out, from: name)
    }

    /// Runs one periodic anti-entropy round on every node.
    public mutating func periodicGossip() {
        for name in nodes.keys.sorted() { collect(nodes[name]!.periodicGossip(), from: name) }
    }

    /// Resets the message and byte counters.
    public mutating func resetCounters() {
        messages = 0
        bytes = 0
        rounds = 0
        entriesReceived = [:]
    }

    /// True when every node holds the same peers (names, UIDs, versions and connections).
    public var converged: Bool {
        guard let first = nodes.values.first else { return true }
        return nodes.values.allSatisfy { $0.topology.peers == first.topology.peers }
    }

    private mutating func collect(_ out: MeshNode.Output, from: PeerName) {
        for (to, message) in out.sends {
            var buffer = ByteBuffer()
            message.encode(into: &buffer)
            messages += 1
            bytes += buffer.readableBytes + 4  // and the frame's length prefix
            // Decode what was encoded, so the wire format is what the receiver sees.
            var copy = buffer
            guard let decoded = try? MeshMessage.decode(&copy) else { continue }
            inFlight.append((from, to, decoded))
        }
        if out.flushNeeded { flushes.insert(from) }
        if out.settleNeeded { settles.insert(from) }
    }
}
