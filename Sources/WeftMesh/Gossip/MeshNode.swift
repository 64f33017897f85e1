public import NIOCore
public import WeftTypes

/// The mesh's logic without sockets or clocks: it takes events (a connection came up or went
/// down, a message arrived, a timer fired) and returns the messages to send. The router runs it
/// under a lock and executes the sends; simulations drive it over an in-memory transport.
public struct MeshNode: Sendable {
    /// The name of the built-in topology channel.
    public static let topologyChannel = "topology"
    /// Gossip messages are cut at about this many bytes so no frame grows without bound.
    public static let gossipChunkBytes = 64 * 1024

    public let identity: PeerIdentity
    public private(set) var topology: Topology
    /// Routes for the current topology, computed on first use after a change (a burst of
    /// changes costs one computation, not one per change).
    private var cachedRoutes: Routes?
    /// Our established connections, by remote peer.
    public private(set) var neighbours: [PeerName: ConnectionSummary] = [:]
    private var channels: [String: any GossipChannel] = [:]
    /// Topology changes waiting for the next `flush`.
    private var pending: [PeerName: TopologyEntry] = [:]
    private var rng: SplitMix64

    /// What an event asks the caller to do.
    public struct Output: Sendable {
        /// Messages to send, each to a neighbour.
        public var sends: [(to: PeerName, message: MeshMessage)] = []
        /// True when the topology or routes changed.
        public var topologyChanged = false
        /// Peers that left the topology (unreachable now).
        public var removedPeers: [PeerName] = []
        /// True when topology changes wait for `flush()`.
        public var flushNeeded = false
        /// Messages that could not be understood, with why (for counting and logging).
        public var rejected: [String] = []

        public init() {}

        mutating func append(_ other: Output) {
            sends += other.sends
            topologyChanged = topologyChanged || other.topologyChanged
            removedPeers += other.removedPeers
            flushNeeded = flushNeeded || other.flushNeeded
            rejected += other.rejected
        }
    }

    public init(identity: PeerIdentity, seed: UInt64) {
        self.identity = identity
        topology = Topology(local: identity)
        rng = SplitMix64(seed: seed)
    }

    /// The routes of the current topology.
    public var routes: Routes { cachedRoutes ?? Routes(topology: topology) }

    /// The routes of the current topology, kept until the next change.
    public mutating func currentRoutes() -> Routes {
        if let cachedRoutes { return cachedRoutes }
        let routes = Routes(topology: topology)
        cachedRoutes = routes
        return routes
    }

    /// Registers a gossip channel (IPAM, DNS) by its name.
    public mutating func register(_ channel: any GossipChannel) {
        channels[channel.name] = channel
    }

    // MARK: connections

    /// A connection finished its handshake: queues our changed connection set for gossip and
    /// starts a state exchange with the new neighbour (a digest each way, then only what either
    /// side lacks), so a neighbour that missed gossip catches up at once.
    public mutating func connectionUp(_ connection: ConnectionSummary, remoteUID: UInt64) -> Output {
        let stale = topology.noteIncarnation(of: connection.remote, uid: remoteUID)
        neighbours[connection.remote] = connection
        var out = localConnectionsChanged()
        if let stale {
            out.sends.append((connection.remote, Self.topologyGossip(.update([stale.fullUpdate]), from: identity.name)))
        }
        out.sends += stateExchange(with: connection.remote)
        return out
    }

    /// A connection closed.
    public mutating func connectionDown(_ peer: PeerName) -> Output {
        guard neighbours.removeValue(forKey: peer) != nil else { return Output() }
        return localConnectionsChanged()
    }

    // MARK: messages

    /// Handles a message that arrived from neighbour `from`.
    public mutating func receive(_ message: MeshMessage, from neighbour: PeerName) -> Output {
        var out = Output()
        switch message {
        case .heartbeat:
            break
        case let .gossip(channel, source, payload):
            if channel == Self.topologyChannel {
                out = receiveTopology(payload, from: neighbour)
            } else if let c = channels[channel] {
                do {
                    if let delta = try c.mergeGossip(payload, from: source) {
                        out.sends += gossipSends(channel: channel, payloads: [delta], excluding: neighbour)
                    }
                } catch {
                    out.rejected.append("\(channel) gossip from \(neighbour): \(error)")
                }
            }
        case let .unicast(channel, source, destination, payload):
            if destination == identity.name {
                do { try channels[channel]?.receiveUnicast(payload, from: source) } catch {
                    out.rejected.append("\(channel) unicast from \(source): \(error)")
                }
            } else if let hop = currentRoutes().unicast[destination] {
                out.sends.append((hop, message))
            }
        case let .broadcast(channel, source, payload):
            do { try channels[channel]?.receiveBroadcast(payload, from: source) } catch {
                out.rejected.append("\(channel) broadcast from \(source): \(error)")
            }
            for hop in currentRoutes().broadcastNextHops(from: source) where hop != neighbour {
                out.sends.append((hop, message))
            }
        }
        return out
    }

    // MARK: timers

    /// Sends the queued topology changes: our own to every neighbour (the first hop of an
    /// epidemic must not skip anyone), those we relay to a random subset of neighbours.
    public mutating func flush() -> Output {
        var out = Output()
        guard !pending.isEmpty else { return out }
        if let own = pending.removeValue(forKey: identity.name) {
            for hop in neighbours.keys.sorted() {
                out.sends.append((hop, Self.topologyGossip(.update([own]), from: identity.name)))
            }
        }
        let relayed = pending.values.sorted { $0.name < $1.name }
        pending.removeAll()
        if !relayed.isEmpty {
            out.sends += gossipSends(channel: Self.topologyChannel, payloads: Self.encodeUpdates(relayed), excluding: nil)
        }
        return out
    }

    /// The periodic anti-entropy round: a digest of the topology and the complete state of every
    /// channel, to a random subset of neighbours.
    public mutating func periodicGossip() -> Output {
        var out = Output()
        for hop in randomNeighbours(excluding: nil) { out.sends += stateExchange(with: hop) }
        return out
    }

    // MARK: sends from channels

    /// Gossips `payload` on `channel` to a random subset of neighbours.
    public mutating func gossip(channel: String, payload: ByteBuffer) -> Output {
        var out = Output()
        out.sends = gossipSends(channel: channel, payloads: [payload], excluding: nil)
        return out
    }

    /// Sends `payload` to `destination` along unicast routes; returns no sends if unreachable.
    public mutating func unicast(channel: String, to destination: PeerName, payload: ByteBuffer) -> Output {
        var out = Output()
        if let hop = currentRoutes().unicast[destination] {
            out.sends.append((hop, .unicast(channel: channel, source: identity.name, destination: destination, payload: payload)))
        }
        return out
    }

    /// Sends `payload` to every reachable peer along our broadcast tree.
    public mutating func broadcast(channel: String, payload: ByteBuffer) -> Output {
        var out = Output()
        let message = MeshMessage.broadcast(channel: channel, source: identity.name, payload: payload)
        out.sends = currentRoutes().broadcastNextHops(from: identity.name).map { ($0, message) }
        return out
    }

    // MARK: internals

    private mutating func localConnectionsChanged() -> Output {
        var out = Output()
        var lost = false
        if let delta = topology.setLocalConnections(Array(neighbours.values)) {
            enqueue(delta)
            out.flushNeeded = true
            lost = !delta.removals.isEmpty
        }
        out.append(topologyMaintenance(lostConnections: lost))
        return out
    }

    private mutating func receiveTopology(_ payload: ByteBuffer, from neighbour: PeerName) -> Output {
        var out = Output()
        var buffer = payload
        let message: TopologyMessage
        do { message = try TopologyMessage.decode(&buffer) } catch {
            out.rejected.append("topology gossip from \(neighbour): \(error)")
            return out
        }
        switch message {
        case let .update(entries):
            let result = topology.merge(entries)
            for e in result.changed { enqueue(e) }
            out.flushNeeded = !result.changed.isEmpty
            if !result.needWhole.isEmpty {
                out.sends.append((neighbour, Self.topologyGossip(.request(result.needWhole), from: identity.name)))
            }
            if !result.changed.isEmpty { out.append(topologyMaintenance(lostConnections: result.lostConnections)) }
        case let .request(names):
            for p in Self.encodeUpdates(topology.wholeEntries(names)) {
                out.sends.append((neighbour, .gossip(channel: Self.topologyChannel, source: identity.name, payload: p)))
            }
        case let .digest(versions):
            let (theyNeed, weNeed) = topology.difference(from: versions)
            for p in Self.encodeUpdates(theyNeed) {
                out.sends.append((neighbour, .gossip(channel: Self.topologyChannel, source: identity.name, payload: p)))
            }
            if !weNeed.isEmpty {
                out.sends.append((neighbour, Self.topologyGossip(.request(weNeed), from: identity.name)))
            }
        }
        return out
    }

    /// After a topology change: drops the cached routes and, when connections were lost (only
    /// a loss can strand a peer), garbage-collects the peers we can no longer reach.
    private mutating func topologyMaintenance(lostConnections: Bool) -> Output {
        var out = Output()
        if lostConnections {
            out.removedPeers = topology.garbageCollect()
            for gone in out.removedPeers { pending[gone] = nil }
        }
        cachedRoutes = nil
        out.topologyChanged = true
        return out
    }

    private mutating func enqueue(_ entry: TopologyEntry) {
        if let queued = pending[entry.name], let joined = queued.followed(by: entry) {
            pending[entry.name] = joined
        } else if pending[entry.name] != nil, let whole = topology.peers[entry.name] {
            pending[entry.name] = whole.fullUpdate
        } else {
            pending[entry.name] = entry
        }
    }

    private func stateExchange(with hop: PeerName) -> [(to: PeerName, message: MeshMessage)] {
        var sends = [(to: hop, message: Self.topologyGossip(.digest(topology.digest()), from: identity.name))]
        for (name, channel) in channels.sorted(by: { $0.key < $1.key }) {
            for p in channel.completeState() {
                sends.append((hop, .gossip(channel: name, source: identity.name, payload: p)))
            }
        }
        return sends
    }

    private mutating func gossipSends(channel: String, payloads: [ByteBuffer], excluding: PeerName?)
        -> [(to: PeerName, message: MeshMessage)]
    {
        var sends: [(to: PeerName, message: MeshMessage)] = []
        for hop in randomNeighbours(excluding: excluding) {
            for p in payloads { sends.append((hop, .gossip(channel: channel, source: identity.name, payload: p))) }
        }
        return sends
    }

    /// About 2·log2(N) neighbours chosen at random (all of them when there are fewer): enough
    /// for an epidemic to reach every peer with high probability, few enough that a change
    /// costs O(N log N) messages across the mesh rather than O(N²).
    private mutating func randomNeighbours(excluding: PeerName?) -> [PeerName] {
        var candidates = neighbours.keys.filter { $0 != excluding }.sorted()
        let n = max(2, topology.peers.count)
        var fanout = 1
        while (1 << fanout) < n { fanout += 1 }  // ceil(log2 n)
        fanout = 2 * fanout
        guard candidates.count > fanout else { return candidates }
        candidates.shuffle(using: &rng)
        return Array(candidates.prefix(fanout))
    }

    static func topologyGossip(_ message: TopologyMessage, from source: PeerName) -> MeshMessage {
        var buffer = ByteBuffer()
        message.encode(into: &buffer)
        return .gossip(channel: topologyChannel, source: source, payload: buffer)
    }

    /// Encodes entries as update messages of at most about `gossipChunkBytes` each.
    static func encodeUpdates(_ entries: [TopologyEntry]) -> [ByteBuffer] {
        var messages: [ByteBuffer] = []
        var batch: [TopologyEntry] = []
        var size = 0
        for e in entries {
            let cost = 40 + e.nickname.utf8.count + e.upserts.count * 32 + e.removals.count * 6
            if !batch.isEmpty, size + cost > gossipChunkBytes {
                messages.append(encode(.update(batch)))
                batch.removeAll()
                size = 0
            }
            batch.append(e)
            size += cost
        }
        if !batch.isEmpty { messages.append(encode(.update(batch))) }
        return messages
    }

    private static func encode(_ message: TopologyMessage) -> ByteBuffer {
        var buffer = ByteBuffer()
        message.encode(into: &buffer)
        return buffer
    }
}
