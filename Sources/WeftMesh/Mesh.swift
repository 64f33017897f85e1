public import Logging
public import NIOCore
import NIOPosix
import Synchronization
public import WeftCrypto
public import WeftTypes

/// How a router's mesh is set up.
public struct MeshConfiguration: Sendable {
    public var identity: PeerIdentity
    /// Address the control port binds to.
    public var host = "0.0.0.0"
    public var port = 6783
    /// The stretched password; nil runs without encryption.
    public var password: PasswordKey?
    /// At most this many connections (0: no limit).
    public var connLimit = 200
    /// Connect to peers learned through gossip.
    public var discovery = true
    /// Features announced in the handshake.
    public var capabilities: [String] = []
    public var gossipInterval: TimeAmount = .seconds(30)
    /// Topology changes are gathered this long before they are gossiped (and routes, discovery
    /// and observers follow them once per window).
    public var flushDelay: TimeAmount = .milliseconds(20)
    /// Observers (routes, data path, IPAM, DNS) and discovery follow topology changes at most
    /// this often: while a mesh forms, every router recomputing its view on every change is
    /// what costs most.
    public var publishInterval: TimeAmount = .milliseconds(200)
    /// This long after the last topology change, a summary to one neighbour checks that
    /// nothing was missed (`MeshNode.settle`).
    public var settleDelay: TimeAmount = .seconds(1)
    public var handshakeTimeout: TimeAmount = .seconds(10)
    public var heartbeatInterval: TimeAmount = .seconds(10)
    public var readTimeout: TimeAmount = .seconds(30)
    public var writeTimeout: TimeAmount = .seconds(30)

    public init(identity: PeerIdentity) { self.identity = identity }
}

/// The mesh control plane of one router: listens on the control port, keeps connections to its
/// targets and discovered peers, runs handshakes, and drives `MeshNode` with what arrives.
///
/// All mesh state sits behind one lock; connection handlers call in from their event loops and
/// every send is queued on its channel while the lock is held, so messages to one peer leave in
/// the order they were decided. Nothing outside the mesh ever runs under that lock but the
/// gossip channels' merge calls; what channels send goes through their `GossipSender`, and
/// topology observers get their `MeshView` on an event loop, in the order of the changes.
public final class Mesh: Sendable {
    public let configuration: MeshConfiguration
    private let group: any EventLoopGroup
    private let logger: Logger
    let state: Mutex<State>
    /// Where topology observers run, one change after the other.
    private let observerLoop: any EventLoop

    struct Live {
        var connection: EstablishedConnection
        var summary: ConnectionSummary
        /// The host part of the summary's address (parsed once: every view names it).
        var host: String
    }

    struct State: ~Copyable {
        var node: MeshNode
        var targets = ConnectionTargets()
        var live: [PeerName: Live] = [:]
        /// Handshakes in progress, by remote address.
        var pending: [String: ConnectionOrigin] = [:]
        var accepts: TokenBucket
        /// Failed password proofs per source address.
        var guesses = GuessLimiter()
        var flushScheduled = false
        /// When the settle check is due (pushed back by every change), and whether it is timed.
        var settleDue: UInt64 = 0
        var settleScheduled = false
        /// When observers and discovery last saw the topology, and whether the next is timed.
        var lastPublish: UInt64 = 0
        var publishScheduled = false
        var rng: SplitMix64
        var server: (any Channel)?
        var timers: [RepeatedTask] = []
        var stopped = false
        var observers: [@Sendable (MeshView) -> Void] = []
    }

    public init(configuration: MeshConfiguration, group: any EventLoopGroup, logger: Logger) {
        self.configuration = configuration
        self.group = group
        self.logger = logger
        observerLoop = group.next()
        let seed = secureRandomUInt64()
        state = Mutex(State(node: MeshNode(identity: configuration.identity, seed: seed),
                            accepts: TokenBucket(capacity: 20, refillNanos: 50_000_000, now: Self.now()),
                            rng: SplitMix64(seed: seed ^ 0x5EED)))
    }

    static func now() -> UInt64 { NIODeadline.now().uptimeNanoseconds }

    private var settings: PeerConnectionSettings {
        PeerConnectionSettings(identity: configuration.identity, password: configuration.password,
                               capabilities: configuration.capabilities,
                               handshakeTimeout: configuration.handshakeTimeout,
                               heartbeatInterval: configuration.heartbeatInterval,
                               readTimeout: configuration.readTimeout, writeTimeout: configuration.writeTimeout)
    }

    // MARK: lifecycle

    /// Binds the control port, starts the timers and dials `initialPeers`.
    public func start(initialPeers: [String]) async throws {
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] channel in
                let address = channel.remoteAddress.map(Self.describe) ?? "unknown"
                guard self.admit(address) else {
                    return channel.close()
                }
                let origin = ConnectionOrigin(outbound: false, remoteAddress: address, target: nil)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(MeshFrameDecoder()),
                        PeerConnectionHandler(settings: self.settings, origin: origin, delegate: self))
                }
            }
            .bind(host: configuration.host, port: configuration.port).get()
        let loop = group.next()
        let tick = loop.scheduleRepeatedTask(initialDelay: .milliseconds(50), delay: .milliseconds(200)) { [self] _ in
            self.dialDueTargets()
        }
        let gossip = loop.scheduleRepeatedTask(initialDelay: configuration.gossipInterval,
                                               delay: configuration.gossipInterval) { [self] _ in
            self.withNode { $0.periodicGossip() }
        }
        state.withLock {
            $0.server = server
            $0.timers = [tick, gossip]
        }
        connect(initialPeers, replace: false)
        logger.info("listening on \(configuration.host):\(configuration.port) as \(configuration.identity.label)")
    }

    /// Closes the listener and every connection.
    public func shutdown() async {
        let (server, connections) = state.withLock { s -> ((any Channel)?, [EstablishedConnection]) in
            s.stopped = true
            s.timers.forEach { $0.cancel() }
            return (s.server, s.live.values.map(\.connection))
        }
        // Closing fails only for what is closed already.
        try? await server?.close()
        for c in connections { try? await c.channel.close() }
    }

    // MARK: targets

    /// Adds connection targets (`host[:port]`), or replaces the direct list.
    public func connect(_ peers: [String], replace: Bool) {
        let addresses = peers.map(normalise)
        state.withLock { $0.targets.addDirect(addresses, replace: replace, now: Self.now()) }
        dialDueTargets()
    }

    /// Closes the connection to `peer` so that a new one, with fresh keys, replaces it (a
    /// connection that lived a minute is dialled again at once).
    public func renew(_ peer: PeerName) {
        guard let connection = state.withLock({ $0.live[peer]?.connection }) else { return }
        logger.info("renewing the connection to \(peer): its keys sealed \(aeadRotationLimit) messages")
        connection.close()
    }

    /// Stops trying to connect to `peers`; connections that exist stay.
    public func forget(_ peers: [String]) {
        let addresses = peers.map(normalise)
        state.withLock { $0.targets.forget(addresses) }
    }

    /// `host` → `host:port` with the default port; `[v6]:port` and `host:port` stay.
    public func normalise(_ peer: String) -> String {
        PeerAddress(peer, defaultPort: configuration.port)?.description ?? peer
    }

    private func dialDueTargets() {
        let due: [String] = state.withLock { s in
            guard !s.stopped else { return [] }
            let limit = configuration.connLimit == 0 ? Int.max : configuration.connLimit
            let budget = max(0, limit - s.live.count - s.pending.count)
            return s.targets.due(now: Self.now(), connected: Set(s.live.keys), budget: budget)
        }
        for address in due { dial(address) }
    }

    private func dial(_ target: String) {
        guard let address = PeerAddress(target, defaultPort: configuration.port) else {
            state.withLock { s in
                s.targets.failed(target, reason: "not an address", permanent: true, now: Self.now(), rng: &s.rng)
            }
            return
        }
        let origin = ConnectionOrigin(outbound: true, remoteAddress: target, target: target)
        state.withLock { $0.pending[target] = origin }
        let settings = self.settings
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.seconds(5))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(MeshFrameDecoder()),
                        PeerConnectionHandler(settings: settings, origin: origin, delegate: self))
                }
            }
        // An address as such is dialled as it is: resolving it (getaddrinfo, files read on
        // every call) was 8 % of the routers' CPU while a mesh of 100 formed.
        let connected = if let ip = try? SocketAddress(ipAddress: address.host, port: address.port) {
            bootstrap.connect(to: ip)
        } else {
            bootstrap.connect(host: address.host, port: address.port)
        }
        connected.whenFailure { [self] error in
            self.state.withLock { s in
                s.pending[target] = nil
                s.targets.failed(target, reason: "\(error)", permanent: false, now: Self.now(), rng: &s.rng)
            }
            self.logger.debug("connect to \(target) failed: \(error)")
        }
    }

    /// At most this many handshakes in progress from one source address, and in all: a flood
    /// from one address can neither drain the accept tokens nor keep real peers out.
    static let maxPendingPerSource = 4
    static let maxPending = 64

    /// Accept-loop limits: the pending handshakes of the source and in all, then a token per
    /// accepted connection.
    private func admit(_ address: String) -> Bool {
        let source = Self.host(of: address)
        let ok = state.withLock { s in
            let inbound = s.pending.values.filter { !$0.outbound }
            guard s.guesses.allows(source, now: Self.now()), inbound.count < Self.maxPending,
                  inbound.lazy.filter({ Self.host(of: $0.remoteAddress) == source }).count < Self.maxPendingPerSource,
                  s.accepts.take(now: Self.now()) else { return false }
            s.pending[address] = ConnectionOrigin(outbound: false, remoteAddress: address, target: nil)
            return true
        }
        if !ok {
            MeshMetrics.handshakeFailed(.rateLimited)
            logger.warning("refused \(address): \(HandshakeFailure.rateLimited)")
        }
        return ok
    }

    // MARK: channels

    /// Adds a gossip channel; its complete state reaches every neighbour from then on.
    public func register(_ channel: any GossipChannel) {
        state.withLock { $0.node.register(channel) }
    }

    /// The sender of the channel `name`: its sends run on one event loop of the mesh's, in the
    /// order they were made and never under the mesh's lock, so a channel may send from inside
    /// a merge without deadlocking.
    public func sender(channel name: String) -> GossipSender {
        let loop = group.next()
        return GossipSender(
            channel: name,
            gossip: { [self] payload in loop.execute { self.gossip(channel: name, payload: payload) } },
            unicast: { [self] peer, payload in loop.execute { self.unicast(channel: name, to: peer, payload: payload) } },
            broadcast: { [self] payload in loop.execute { self.broadcast(channel: name, payload: payload) } })
    }

    /// Gossips `payload` on `channel` to a random subset of neighbours.
    public func gossip(channel: String, payload: ByteBuffer) {
        withNode { $0.gossip(channel: channel, payload: payload) }
    }

    /// Sends `payload` to `peer` along unicast routes; false when it is unreachable.
    @discardableResult
    public func unicast(channel: String, to peer: PeerName, payload: ByteBuffer) -> Bool {
        var sent = false
        withNode { node in
            let out = node.unicast(channel: channel, to: peer, payload: payload)
            sent = !out.sends.isEmpty
            return out
        }
        return sent
    }

    /// Broadcasts `payload` on `channel` to every reachable peer.
    public func broadcast(channel: String, payload: ByteBuffer) {
        withNode { $0.broadcast(channel: channel, payload: payload) }
    }

    /// Calls `observer` with the mesh as it is after every topology change, on one event loop,
    /// change after change (never two at once, never an older view after a newer one).
    public func onTopologyChange(_ observer: @escaping @Sendable (MeshView) -> Void) {
        state.withLock { $0.observers.append(observer) }
    }

    /// The mesh now: reachable peers, nicknames, neighbours, routes.
    public func view() -> MeshView { state.withLock { makeView(&$0) } }

    private func makeView(_ s: inout State) -> MeshView {
        let routes = s.node.currentRoutes()
        let neighbours = s.live.map { name, live in
            MeshNeighbour(name: name, host: live.host, keys: live.connection.keys,
                          capabilities: live.connection.remote.capabilities)
        }
        let nicknames = Dictionary(s.node.topology.peers.values.map { ($0.name, $0.nickname) }, uniquingKeysWith: { a, _ in a })
        return MeshView(reachable: Set(routes.unicast.keys), nicknames: nicknames, neighbours: neighbours, routes: routes)
    }

    // MARK: driving the node

    /// Runs an event against the node and carries out what it asks, under the lock.
    private func withNode(_ event: (inout MeshNode) -> MeshNode.Output) {
        state.withLock { s in
            let out = event(&s.node)
            apply(out, to: &s)
        }
    }

    /// Sends what `out` asks, schedules a flush, refreshes discovery, and after a topology
    /// change queues the observers with the new view (on their loop: they run after the lock
    /// is released, in the order of the changes).
    private func apply(_ out: MeshNode.Output, to s: inout State) {
        var batches: [PeerName: [MeshMessage]] = [:]
        for (to, message) in out.sends { batches[to, default: []].append(message) }
        for (to, messages) in batches { s.live[to]?.connection.send(messages) }
        for reason in out.rejected {
            MeshMetrics.rejected("gossip")
            logger.warning("dropped \(reason)")
        }
        for gone in out.removedPeers { logger.info("peer \(gone) is unreachable; removed") }
        if out.flushNeeded && !s.flushScheduled && !s.stopped {
            s.flushScheduled = true
            group.next().scheduleTask(in: configuration.flushDelay) { [self] in
                self.state.withLock { s in
                    s.flushScheduled = false
                    self.apply(s.node.flush(), to: &s)
                }
            }
        }
        if out.settleNeeded && !s.stopped {
            s.settleDue = Self.now() + UInt64(configuration.settleDelay.nanoseconds)
            if !s.settleScheduled {
                s.settleScheduled = true
                scheduleSettle(in: configuration.settleDelay)
            }
        }
        guard out.topologyChanged, !s.stopped else { return }
        let now = Self.now()
        let interval = UInt64(configuration.publishInterval.nanoseconds)
        if now >= s.lastPublish + interval {
            publish(&s, now: now)
        } else if !s.publishScheduled {
            s.publishScheduled = true
            group.next().scheduleTask(in: .nanoseconds(Int64(s.lastPublish + interval - now))) { [self] in
                self.state.withLock { s in
                    s.publishScheduled = false
                    if !s.stopped { self.publish(&s, now: Self.now()) }
                }
            }
        }
    }

    /// After topology changes: new discovery targets (dialled at once) and the observers' view.
    private func publish(_ s: inout State, now: UInt64) {
        s.lastPublish = now
        if configuration.discovery {
            refreshDiscovery(&s)
            group.next().execute { self.dialDueTargets() }
        }
        guard !s.observers.isEmpty else { return }
        let view = makeView(&s)
        let observers = s.observers
        observerLoop.execute { for observer in observers { observer(view) } }
    }

    /// The settle check, once no change has pushed it back since it was timed.
    private func scheduleSettle(in delay: TimeAmount) {
        group.next().scheduleTask(in: delay) { [self] in
            self.state.withLock { s in
                guard !s.stopped else { return }
                let now = Self.now()
                if now < s.settleDue {
                    self.scheduleSettle(in: .nanoseconds(Int64(s.settleDue - now)))
                } else {
                    s.settleScheduled = false
                    self.apply(s.node.settle(), to: &s)
                }
            }
        }
    }

    /// Every known peer we are not connected to becomes a target at the addresses its
    /// neighbours report: an outbound connection names the peer's listening address; an
    /// inbound one its IP, at our own port. (Looked up per peer not connected, its reporters
    /// found in the link matrix, so a formed mesh costs one lookup per peer; a peer others
    /// report but whose own entry has not arrived yet waits for it.)
    private func refreshDiscovery(_ s: inout State) {
        let me = configuration.identity.name
        let peers = s.node.topology.peers, links = s.node.topology.links
        var candidates: [String: PeerName] = [:]
        for peer in peers.keys where peer != me && s.live[peer] == nil {
            guard let u = links.slot(of: peer) else { continue }
            // The listening addresses its diallers report, or if nobody dialled it, the
            // addresses it connected from.
            var dialled: [String] = [], from: [String] = []
            for i in links.names.indices where i != u && links.isLinked(i, to: u) {
                guard let c = links.names[i].flatMap({ peers[$0]?.connections[peer] }) else { continue }
                if c.outbound {
                    if !dialled.contains(c.address) { dialled.append(c.address) }
                } else if dialled.isEmpty, !from.contains(c.address) {
                    from.append(c.address)
                }
            }
            for a in dialled.isEmpty ? from : dialled {
                guard var address = PeerAddress(a, defaultPort: configuration.port) else { continue }
                if dialled.isEmpty { address.port = configuration.port }
                candidates[address.description] = peer
            }
        }
        s.targets.setDiscovered(candidates, local: me, now: Self.now())
    }

    /// The host part of a connection's `host:port` address (the address itself when it does
    /// not parse).
    static func host(of address: String) -> String { PeerAddress(address, defaultPort: 0)?.host ?? address }

    static func describe(_ address: SocketAddress) -> String {
        guard let ip = address.ipAddress, let port = address.port else { return "\(address)" }
        return address.protocol == .inet6 ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}

extension Mesh: PeerConnectionDelegate {
    func handshakeSucceeded(_ connection: EstablishedConnection) -> HandshakeFailure? {
        let remote = connection.remote
        var refusal: HandshakeFailure?
        var replaced: EstablishedConnection?
        state.withLock { s in
            s.pending[connection.origin.remoteAddress] = nil
            if let existing = s.live[remote.name] {
                // Two connections join the same pair: both ends keep the one with the lower
                // connection UID. A different peer UID means the peer restarted: the new wins.
                if existing.connection.remote.uid == remote.uid,
                   existing.connection.connectionUID <= connection.connectionUID {
                    refusal = .duplicate
                } else {
                    replaced = existing.connection
                }
            } else if configuration.connLimit > 0, s.live.count >= configuration.connLimit {
                refusal = .connectionLimit
            }
            if let target = connection.origin.target {
                if refusal == .duplicate {
                    s.targets.superseded(target, peer: remote.name)
                } else if let refusal {
                    s.targets.failed(target, reason: refusal.description, permanent: false, now: Self.now(), rng: &s.rng)
                } else {
                    s.targets.connected(target, peer: remote.name, now: Self.now())
                }
            }
            guard refusal == nil else { return }
            let summary = ConnectionSummary(remote: remote.name, address: connection.origin.remoteAddress,
                                            outbound: connection.origin.outbound, established: true)
            s.live[remote.name] = Live(connection: connection, summary: summary, host: Self.host(of: summary.address))
            apply(s.node.connectionUp(summary, remoteUID: remote.uid), to: &s)
        }
        if let refusal {
            if refusal != .duplicate { MeshMetrics.handshakeFailed(refusal) }
            let level: Logger.Level = refusal == .duplicate ? .debug : .warning
            logger.log(level: level, "refused \(connection.origin.remoteAddress) (\(remote.name)(\(remote.nickname))): \(refusal)")
            return refusal
        }
        replaced?.close()
        let direction = connection.origin.outbound ? "outbound" : "inbound"
        let encryption = connection.keys == nil ? "unencrypted" : "encrypted"
        logger.info("connected to \(remote.name)(\(remote.nickname)) at \(connection.origin.remoteAddress) (\(direction), \(encryption))")
        return nil
    }

    func handshakeFailed(_ origin: ConnectionOrigin, failure: HandshakeFailure) {
        state.withLock { s in
            s.pending[origin.remoteAddress] = nil
            if let target = origin.target {
                s.targets.failed(target, reason: failure.description, permanent: failure.isPermanent,
                                 now: Self.now(), rng: &s.rng)
            }
            if failure == .authenticationFailed, !origin.outbound {
                s.guesses.failed(Self.host(of: origin.remoteAddress), now: Self.now())
            }
        }
        MeshMetrics.handshakeFailed(failure)
        let level: Logger.Level = failure == .connectToSelf || failure == .closed ? .debug : .warning
        logger.log(level: level, "refused \(origin.remoteAddress): \(failure)")
    }

    func received(_ message: MeshMessage, on connection: EstablishedConnection) {
        let from = connection.remote.name
        withNode { node in node.receive(message, from: from) }
    }

    func rejected(_ connection: EstablishedConnection, reason: String) {
        MeshMetrics.rejected("frame")
        logger.warning("dropped a message from \(connection.remote.name): \(reason)")
    }

    func closed(_ connection: EstablishedConnection, reason: String) {
        let name = connection.remote.name
        var current = false
        state.withLock { s in
            guard s.live[name]?.connection === connection else { return }
            current = true
            s.live[name] = nil
            if let target = connection.origin.target {
                s.targets.disconnected(target, reason: reason, now: Self.now(), rng: &s.rng)
            }
            apply(s.node.connectionDown(name), to: &s)
        }
        if current { logger.info("lost \(name)(\(connection.remote.nickname)): \(reason)") }
    }
}
