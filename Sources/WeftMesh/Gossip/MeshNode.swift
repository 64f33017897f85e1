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
    /// Routes as of the last `flush` (or a later on-demand computation): changes within one
    /// flush window cost one computation, and only changes of who connects to whom count.
    private var cachedRoutes: Routes?
    private var routesStale = false
    /// A connection was lost since the last flush: unreachable peers are collected then.
    private var lostSinceFlush = false
    /// Something observers see (topology, routes, neighbours) changed since the last flush.
    private var viewChanged = false
    /// Our established connections, by remote peer.
    public private(set) var neighbours: [PeerName: ConnectionSummary] = [:]
    private var channels: [String: any GossipChannel] = [:]
    /// Topology changes waiting for the next `flush`, with the neighbour each first came from
    /// (absent for our own entry and for entries we learned otherwise).
    private var pending: [PeerName: TopologyEntry] = [:]
    private var pendingFrom: [PeerName: PeerName] = [:]
    /// The neighbour whose answer to our digest we await, and the new neighbours whose digest
    /// waits for it: connections that come up together are caught up one after the other, so
    /// the second answer carries only what the first did not.
    private var digestInFlight: PeerName?
    private var digestQueue: [PeerName] = []
    /// Entries asked of a neighbour and not answered yet: the version we held when asking,
    /// whom we asked and at which flush. Another gap in the same entry waits for that answer
    /// (for a few flush windows) instead of asking the next neighbour whose delta shows it too.
    private var asked: [PeerName: (held: UInt64, of: PeerName, at: Int)] = [:]
    private var flushes = 0
    private var rng: SplitMix64

    /// What an event asks the caller to do.
    public struct Output: Sendable {
        /// Messages to send, each to a neighbour.
        public var sends: [(to: PeerName, message: MeshMessage)] = []
        /// True when the topology, routes or neighbours changed (reported by `flush`, once per
        /// window: observers and discovery run then).
        public var topologyChanged = false
        /// Peers that left the topology (unreachable now).
        public var removedPeers: [PeerName] = []
        /// True when topology changes wait for `flush()`.
        public var flushNeeded = false
        /// True when the topology changed: a `settle()` some time after the last change makes
        /// sure nothing was missed.
        public var settleNeeded = false
        /// Messages that could not be understood, with why (for counting and logging).
        public var rejected: [String] = []

        public init() {}

        mutating func append(_ other: Output) {
            sends += other.sends
            topologyChanged = topologyChanged || other.topologyChanged
            removedPeers += other.removedPeers
            flushNeeded = flushNeeded || other.flushNeeded
            settleNeeded = settleNeeded || other.settleNeeded
            rejected += other.rejected
        }
    }

    public init(identity: PeerIdentity, seed: UInt64) {
        self.identity = identity
        topology = Topology(local: identity)
        rng = SplitMix64(seed: seed)
    }

    /// The routes of the current topology.
    public var routes: Routes { routesStale ? Routes(topology: topology) : cachedRoutes ?? Routes(topology: topology) }

    /// The routes of the current topology (computed now if a change made them stale).
    public mutating func currentRoutes() -> Routes {
        if let cachedRoutes, !routesStale { return cachedRoutes }
        let routes = Routes(topology: topology)
        cachedRoutes = routes
        routesStale = false
        return routes
    }

    /// The routes to forward by: those of the last flush, unless they lack `destination` and a
    /// change since may have brought it (a peer that just joined).
    private mutating func forwardingRoutes(to destination: PeerName) -> Routes {
        if let cachedRoutes, !routesStale || cachedRoutes.unicast[destination] != nil { return cachedRoutes }
        return currentRoutes()
    }

    /// Registers a gossip channel (IPAM, DNS) by its name.
    public mutating func register(_ channel: any GossipChannel) {
        channels[channel.name] = channel
    }

    // MARK: connections

    /// A connection finished its handshake: queues our changed connection set for gossip and,
    /// with a neighbour our routes did not reach, starts a state exchange (the channels'
    /// complete states both ways; the dialler sends its digest, the answer carries what the
    /// dialler lacks and asks for what the other side lacks), so a peer from elsewhere catches
    /// up at once.
    public mutating func connectionUp(_ connection: ConnectionSummary, remoteUID: UInt64) -> Output {
        let stale = topology.noteIncarnation(of: connection.remote, uid: remoteUID)
        // A peer our routes already reached (this incarnation) shares our gossip: what either
        // side lacks is in flight, the complete channel states would repeat what the epidemic
        // brought, and the settle summary after the last change (topology) and the periodic
        // exchange (channels) find anything missed. A peer from elsewhere (a joiner, a
        // partition healing, a restart) gets the whole exchange.
        // While a mesh of N forms, that spares each router about N digests and N copies of
        // every channel's state. (`topology.reaches`, a search of the link matrix: the cached
        // routes are the last flush's, which forwarding relies on, and fresh ones cost more.)
        let alreadyReached = stale == nil && topology.reaches(connection.remote)
        neighbours[connection.remote] = connection
        var out = localConnectionsChanged()
        if let stale {
            // Its version, not its connections: every peer that held it sends one.
            out.sends.append((connection.remote, Self.topologyGossip(.update([stale.versionOnly]), from: identity.name)))
        }
        guard !alreadyReached else { return out }
        out.sends += stateExchange(with: connection.remote, digest: false)
        if connection.outbound {
            if digestInFlight == nil { out.sends += sendDigest(to: connection.remote) } else { digestQueue.append(connection.remote) }
        }
        return out
    }

    /// A connection closed.
    public mutating func connectionDown(_ peer: PeerName) -> Output {
        guard neighbours.removeValue(forKey: peer) != nil else { return Output() }
        var out = localConnectionsChanged()
        digestQueue.removeAll { $0 == peer }
        if digestInFlight == peer { out.sends += nextDigest() }
        return out
    }

    private mutating func sendDigest(to hop: PeerName) -> [(to: PeerName, message: MeshMessage)] {
        digestInFlight = hop
        return [(hop, Self.topologyGossip(.digest(topology.digest()), from: identity.name))]
    }

    /// The digest answer from `digestInFlight` is in (or it left): the next waiting neighbour's turn.
    private mutating func nextDigest() -> [(to: PeerName, message: MeshMessage)] {
        digestInFlight = nil
        while !digestQueue.isEmpty {
            let hop = digestQueue.removeFirst()
            if neighbours[hop] != nil { return sendDigest(to: hop) }
        }
        return []
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
            } else if let hop = forwardingRoutes(to: destination).unicast[destination] {
                out.sends.append((hop, message))
            }
        case let .broadcast(channel, source, payload):
            do { try channels[channel]?.receiveBroadcast(payload, from: source) } catch {
                out.rejected.append("\(channel) broadcast from \(source): \(error)")
            }
            for hop in forwardingRoutes(to: source).broadcastNextHops(from: source) where hop != neighbour {
                out.sends.append((hop, message))
            }
        }
        return out
    }

    // MARK: timers

    /// The end of a flush window: collects the peers no longer reachable and sends the queued
    /// topology changes: our own to every neighbour, each relayed one only to the neighbours
    /// that would not hear it otherwise (`relayTargets`). Reports `topologyChanged` when
    /// observers should look (the router then takes its view, routes included, once per
    /// window; routes are recomputed only when who connects to whom changed).
    public mutating func flush() -> Output {
        var out = Output()
        flushes += 1
        if lostSinceFlush {
            lostSinceFlush = false
            out.removedPeers = topology.garbageCollect()
            for gone in out.removedPeers {
                pending[gone] = nil
                pendingFrom[gone] = nil
            }
        }
        out.topologyChanged = viewChanged
        viewChanged = false
        guard !pending.isEmpty else { return out }
        if let own = pending.removeValue(forKey: identity.name) {
            let message = Self.topologyGossip(.update([own]), from: identity.name)
            for hop in neighbours.keys.sorted() { out.sends.append((hop, message)) }
        }
        var byHop: [PeerName: [TopologyEntry]] = [:]
        for entry in pending.values {
            for hop in relayTargets(of: entry.name, from: pendingFrom[entry.name]) { byHop[hop, default: []].append(entry) }
        }
        pending.removeAll()
        pendingFrom.removeAll()
        for (hop, entries) in byHop.sorted(by: { $0.key < $1.key }) {
            for p in Self.encodeUpdates(entries.sorted { $0.name < $1.name }) {
                out.sends.append((hop, .gossip(channel: Self.topologyChannel, source: identity.name, payload: p)))
            }
        }
        return out
    }

    /// The neighbours a change of `origin`'s entry (first heard from `sender`) goes on to, so
    /// that each peer hears it about once: along a breadth-first tree from the origin in which
    /// each peer's parent is its smallest-named neighbour one hop nearer the origin. The origin
    /// sends its own changes to all of its neighbours; a peer at distance d passes it on to each
    /// neighbour at distance d + 1 whose neighbours at distance d have no smaller name than its
    /// own. Near the origin (d = 1) that needs only the origin's and the neighbour's links; further
    /// away, distances from a breadth-first search of our view as far as ourselves. A neighbour
    /// counts as linked to a peer that passes it on when either of the two reports the link: a
    /// joiner's own entry often reaches us after the reports of those it connected to, and
    /// before, every neighbour of the origin passed every change to a neighbour whose entry it
    /// lacked (a router rejoining a busy mesh of 50 took in up to 2.5 times a fresh join's
    /// bytes, most of them copies). All of it by our view of the topology: where views disagree
    /// a peer may hear twice or not at all, and the `settle()` digest after the last change
    /// fills what was missed.
    func relayTargets(of origin: PeerName, from sender: PeerName?) -> [PeerName] {
        let links = topology.links
        guard let o = links.slot(of: origin), links.hasEntry(o), let me = links.slot(of: identity.name) else { return [] }
        // Which neighbours are one hop further from the origin than we are (`further`), and the
        // peers that pass it to any neighbour linked to one of them instead of us (`takers`).
        var further = links.none, takers = links.none
        let originLinks = links.links(of: o)
        func below(_ i: Int) -> Bool { links.names[i].map { $0 < identity.name } ?? false }
        if neighbours[origin] != nil {
            for w in 0..<links.words { further[w] = ~originLinks[w] }
            for i in links.names.indices where LinkMatrix.contains(originLinks, i) && below(i) { LinkMatrix.insert(i, into: &takers) }
        } else {
            let depth = links.depths(from: o, through: me)
            if depth[me] >= 0 {
                for i in depth.indices {
                    if depth[i] < 0 { LinkMatrix.insert(i, into: &further) }  // the search stopped at our distance
                    else if depth[i] == depth[me], below(i) { LinkMatrix.insert(i, into: &takers) }
                }
            } else {
                // Our view does not reach the origin: the neighbours no neighbour of the origin
                // (nor the sender) will tell.
                let senderLinks = sender.flatMap(links.slot(of:)).map(links.links(of:)) ?? links.none
                for w in 0..<links.words { further[w] = ~(originLinks[w] | senderLinks[w]) }
                takers = originLinks
            }
        }
        let taken = links.linksOfAny(takers)
        return neighbours.keys.filter { hop in
            guard hop != origin, hop != sender else { return false }
            guard let h = links.slot(of: hop) else { return true }
            return LinkMatrix.contains(further, h) && !LinkMatrix.contains(taken, h) && !links.linksAny(h, of: takers)
        }.sorted()
    }

    /// Some time after the last topology change: a summary (peer count and checksum of the
    /// versions held) to one random neighbour; if it holds something else it answers with its
    /// digest, and that exchange brings each side what the relays missed.
    public mutating func settle() -> Output {
        var out = Output()
        asked.removeAll()
        guard let hop = neighbours.keys.sorted().randomElement(using: &rng) else { return out }
        let summary = topology.summary()
        out.sends.append((hop, Self.topologyGossip(.summary(peers: summary.peers, checksum: summary.checksum), from: identity.name)))
        return out
    }

    /// The periodic anti-entropy round: a digest of the topology and the complete state of every
    /// channel, to a random subset of neighbours.
    public mutating func periodicGossip() -> Output {
        var out = Output()
        for hop in randomNeighbours(excluding: nil) { out.sends += stateExchange(with: hop, digest: true) }
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
        if let hop = forwardingRoutes(to: destination).unicast[destination] {
            out.sends.append((hop, .unicast(channel: channel, source: identity.name, destination: destination, payload: payload)))
        }
        return out
    }

    /// Sends `payload` to every reachable peer along our broadcast tree.
    public mutating func broadcast(channel: String, payload: ByteBuffer) -> Output {
        var out = Output()
        let message = MeshMessage.broadcast(channel: channel, source: identity.name, payload: payload)
        out.sends = forwardingRoutes(to: identity.name).broadcastNextHops(from: identity.name).map { ($0, message) }
        return out
    }

    // MARK: internals

    /// Our neighbours changed: our entry's delta is queued, and the flush that sends it also
    /// tells observers (a replaced connection changes no entry but brings new keys).
    private mutating func localConnectionsChanged() -> Output {
        if let delta = topology.setLocalConnections(Array(neighbours.values)) {
            enqueue(delta, from: nil)
            topologyMaintenance(lostConnections: !delta.removals.isEmpty, adjacencyChanged: true)
        }
        viewChanged = true
        var out = Output()
        out.flushNeeded = true
        out.settleNeeded = true
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
            for e in result.changed {
                enqueue(e, from: e.name == identity.name ? nil : neighbour)
                asked[e.name] = nil
            }
            // Entries we hold none of wait for the digest answer we await, if any: it brings
            // every entry we lack, and asking each neighbour whose delta came first for the whole
            // entry cost a router rejoining a busy mesh up to three times what its first join
            // did. (A later delta, or the settle summary, asks again if the answer lacked one.)
            let behind = ask(neighbour, for: digestInFlight == nil ? result.behind : result.behind.filter { $0.version > 0 })
            if !behind.isEmpty {
                out.sends.append((neighbour, Self.topologyGossip(.request(behind), from: identity.name)))
            }
            if !result.changed.isEmpty {
                topologyMaintenance(lostConnections: result.lostConnections, adjacencyChanged: result.adjacencyChanged)
                out.flushNeeded = true
                out.settleNeeded = true
            }
        case let .request(held):
            for p in Self.encodeUpdates(topology.updates(since: held)) {
                out.sends.append((neighbour, .gossip(channel: Self.topologyChannel, source: identity.name, payload: p)))
            }
            // A request ends every answer to a digest.
            if neighbour == digestInFlight { out.sends += nextDigest() }
        case let .digest(versions):
            let (theyNeed, difference) = topology.difference(from: versions)
            let weNeed = ask(neighbour, for: difference)
            for p in Self.encodeUpdates(theyNeed) {
                out.sends.append((neighbour, .gossip(channel: Self.topologyChannel, source: identity.name, payload: p)))
            }
            // Always, even empty: it tells the digest's sender that the answer is complete.
            out.sends.append((neighbour, Self.topologyGossip(.request(weNeed), from: identity.name)))
        case let .summary(peers, checksum):
            let mine = topology.summary()
            if mine.peers != peers || mine.checksum != checksum {
                out.sends.append((neighbour, Self.topologyGossip(.digest(topology.digest()), from: identity.name)))
            }
        }
        return out
    }

    /// Of the entries we would ask `neighbour` for, those not already asked of someone (still
    /// connected, at the version we hold, within the last few flush windows); records them.
    private mutating func ask(_ neighbour: PeerName, for wanted: [PeerVersion]) -> [PeerVersion] {
        let fresh = wanted.filter { w in
            guard let a = asked[w.name] else { return true }
            return a.held != w.version || neighbours[a.of] == nil || flushes - a.at > 10
        }
        for w in fresh { asked[w.name] = (w.version, neighbour, flushes) }
        return fresh
    }

    /// After a topology change, for the next flush: the routes are stale when who connects to
    /// whom changed, and unreachable peers are collected when connections were lost (only a
    /// loss can strand a peer).
    private mutating func topologyMaintenance(lostConnections: Bool, adjacencyChanged: Bool) {
        lostSinceFlush = lostSinceFlush || lostConnections
        routesStale = routesStale || adjacencyChanged || cachedRoutes == nil
        viewChanged = true
    }

    private mutating func enqueue(_ entry: TopologyEntry, from sender: PeerName?) {
        if let queued = pending[entry.name], let joined = queued.followed(by: entry) {
            pending[entry.name] = joined
        } else if pending[entry.name] != nil, let whole = topology.peers[entry.name] {
            pending[entry.name] = whole.fullUpdate
        } else {
            pending[entry.name] = entry
            pendingFrom[entry.name] = sender
        }
    }

    /// A neighbour's catch-up: our complete channel states and, with `digest`, the topology
    /// digest (one side's digest is enough: its answer goes both ways).
    private func stateExchange(with hop: PeerName, digest: Bool) -> [(to: PeerName, message: MeshMessage)] {
        var sends: [(to: PeerName, message: MeshMessage)] = []
        if digest { sends.append((hop, Self.topologyGossip(.digest(topology.digest()), from: identity.name))) }
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
