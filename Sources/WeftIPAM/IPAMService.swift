public import FoundationEssentials
import Glibc
import Dispatch
public import Logging
public import NIOCore
import Synchronization
public import WeftMesh
public import WeftTypes

/// IPAM in a running router: the `Allocator` behind one lock, registered with the mesh as the
/// `ipam` gossip channel, persisted to the state directory, and driven by a half-second tick.
/// Requests that cannot complete yet (no agreement, space asked for) wait for the next change
/// or tick, up to a deadline, instead of holding a thread.
public final class IPAMService: GossipChannel {
    /// The channel's name on the wire.
    public static let channel = "ipam"
    public var name: String { Self.channel }
    /// Where IPAM's state goes (see `IPAMSnapshot` for the two files and why).
    public struct Storage: Sendable {
        /// Atomically and durably replaces the snapshot.
        public var replaceSnapshot: @Sendable (Data) throws -> Void
        /// Appends to the journal and syncs it to disk.
        public var appendJournal: @Sendable (Data) throws -> Void
        /// Empties the journal, durably.
        public var clearJournal: @Sendable () throws -> Void

        public init(replaceSnapshot: @escaping @Sendable (Data) throws -> Void,
                    appendJournal: @escaping @Sendable (Data) throws -> Void,
                    clearJournal: @escaping @Sendable () throws -> Void) {
            self.replaceSnapshot = replaceSnapshot
            self.appendJournal = appendJournal
            self.clearJournal = clearJournal
        }
    }

    /// The journal is folded into a new snapshot once it has this many lines.
    static let journalLimit = 1000

    private struct State {
        var core: Allocator
        var reachable: Set<PeerName> = []
        /// Peers with a live connection to this one (reachable soon if not yet).
        var connected: Set<PeerName> = []
        /// Bumped on every change; waiters wait for it to move.
        var generation: UInt64 = 0
        var waiters: [CheckedContinuation<Void, Never>] = []
        var acks: Set<PeerName> = []
        var loggedConflicts: Set<String> = []
        var wasReady = false
    }

    private let state: Mutex<State>
    /// Lines in the journal file; held while writing, so writes land in order and a request
    /// that finds it free knows its own change is on disk once it has written.
    private let journalLines = Mutex<Int>(0)
    private let sender: GossipSender
    private let storage: Storage
    private let logger: Logger

    /// `sender` is the `ipam` channel's (`Mesh.sender(channel: IPAMService.channel)`).
    public init(allocator: Allocator, sender: GossipSender, storage: Storage, logger: Logger) {
        state = Mutex(State(core: allocator, wasReady: allocator.isReady))
        self.sender = sender
        self.storage = storage
        self.logger = logger
    }

    // MARK: running

    /// Starts the agreement (or builds the seeded ring). Call it before the mesh connects, so
    /// the state every new neighbour receives already holds the ring.
    public func start() {
        apply { s in s.core.start(now: Self.now()) }
    }

    /// Ticks until the task is cancelled.
    public func run() async {
        while !Task.isCancelled {
            // Throws only when cancelled, which the loop's condition sees next.
            try? await Task.sleep(for: .milliseconds(500))
            apply { s in s.core.tick(now: Self.now()) }
            // A failure is logged by persist and retried at the next tick (a snapshot stays due).
            try? persist()
            notify()
        }
    }

    /// Tells IPAM which peers are reachable now, and their nicknames.
    public func updatePeers(reachable: Set<PeerName>, connected: Set<PeerName>, nicknames: [PeerName: String]) {
        state.withLock { s in
            s.reachable = reachable
            s.connected = connected
            s.core.learn(nicknames: nicknames)
        }
        notify()
    }

    // MARK: requests

    /// Allocates an address for `id` in `subnet` (the range when nil), waiting up to `timeout`
    /// for agreement or donated space.
    public func allocate(id: String, in subnet: Subnet?, timeout: Duration) async throws(IPAMError) -> Allocation {
        try await untilDone(timeout: timeout) { s in s.core.allocate(id: id, in: subnet, now: Self.now(), reachable: s.reachable, connected: s.connected) }
    }

    /// Claims `address` for `id`, waiting up to `timeout` for the ring to exist.
    public func claim(id: String, address: UInt32, subnet: Subnet?, timeout: Duration) async throws(IPAMError) -> Allocation {
        try await untilDone(timeout: timeout) { s in (s.core.claim(id: id, address: address, subnet: subnet), []) }
    }

    /// Frees `id`'s `address`, or all of its addresses.
    public func free(id: String, address: UInt32?) throws(IPAMError) -> [Allocation] {
        let freed = state.withLock { $0.core.free(id: id, address: address) }
        try persist()
        return freed
    }

    public func lookup(id: String) -> [Allocation] { state.withLock { $0.core.lookup(id: id) } }

    /// Waits until the ring exists; false when `timeout` passed first.
    public func waitUntilReady(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (ready, generation) = state.withLock { ($0.core.isReady, $0.generation) }
            if ready { return true }
            if ContinuousClock.now >= deadline { return false }
            await waitForChange(after: generation)
        }
    }

    /// `rmpeer`: takes over the ranges of `peer` (a name, or a nickname the ring knows).
    /// Returns the peer (as `name(nickname)`) and the number of addresses taken over.
    public func takeOver(_ peer: String) throws(IPAMError) -> (String, UInt64) {
        let result: Result<(String, UInt64), IPAMError> = state.withLock { s in
            guard let name = PeerName(peer) ?? s.core.nicknames.first(where: { $0.value == peer })?.key else {
                return .failure(IPAMError(.notFound, "no peer named \(peer) is known to IPAM"))
            }
            do throws(IPAMError) {
                let (moved, sends) = try s.core.takeOver(from: name, reachable: s.reachable)
                send(sends)
                return .success((s.core.describe(name), moved))
            } catch { return .failure(error) }
        }
        let (name, moved) = try result.get()
        try persist()
        logger.notice("IPAM: took over \(moved) addresses from \(name)")
        return (name, moved)
    }

    /// `reset`: hands all of this peer's space to a reachable peer and waits up to `timeout` for
    /// its acknowledgement. Returns the heir, or nil when there was nothing to hand or nobody
    /// to hand it to.
    public func handOff(timeout: Duration) async -> PeerName? {
        let heir: PeerName? = state.withLock { s in
            guard let (heir, sends) = s.core.handOff(reachable: s.reachable) else { return nil }
            send(sends)
            return heir
        }
        guard let heir else { return nil }
        // A failure is logged by persist; the hand-off goes on (the heir holds the space now).
        try? persist()
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let (acked, generation) = state.withLock { ($0.acks.contains(heir), $0.generation) }
            if acked {
                logger.notice("IPAM: handed this peer's space to \(heir)")
                return heir
            }
            await waitForChange(after: generation)
        }
        logger.warning("IPAM: \(heir) did not acknowledge the hand-off in time; gossip will still carry it")
        return heir
    }

    /// A picture for status output.
    public func status() -> IPAMStatus {
        state.withLock { s in IPAMStatus(s.core, reachable: s.reachable) }
    }

    /// Writes what changed: the journal lines of new allocation changes, or a new snapshot when
    /// the ring changed or the journal is long. Throws (and leaves a snapshot due) when the
    /// disk refuses.
    public func persist() throws(IPAMError) {
        try journalLines.withLock { (lines: inout Int) throws(IPAMError) in
            let (snapshot, records) = state.withLock { s -> (Data?, [JournalRecord]) in
                defer { s.core.journal.removeAll() }
                if s.core.needsSnapshot || lines + s.core.journal.count > Self.journalLimit {
                    do {
                        let snapshot = try s.core.snapshot()
                        s.core.needsSnapshot = false
                        return (snapshot, [])
                    } catch {
                        // Keep the journal lines and the snapshot due: nothing is lost.
                        logger.error("IPAM: cannot encode a snapshot: \(error)")
                        s.core.needsSnapshot = true
                        return (nil, s.core.journal)
                    }
                }
                return (nil, s.core.journal)
            }
            do {
                if let snapshot {
                    try storage.replaceSnapshot(snapshot)
                    try storage.clearJournal()
                    lines = 0
                } else if !records.isEmpty {
                    try storage.appendJournal(records.reduce(into: Data()) { $0 += $1.line() })
                    lines += records.count
                }
            } catch {
                state.withLock { $0.core.needsSnapshot = true }
                logger.error("IPAM: cannot persist its state: \(error)")
                throw IPAMError(.unavailable, "cannot persist the IPAM state: \(error)")
            }
        }
    }

    // MARK: GossipChannel

    public func completeState() -> [ByteBuffer] {
        [state.withLock { $0.core.gossip().message.encode() }]
    }

    public func mergeGossip(_ payload: ByteBuffer, from sender: PeerName) throws -> ByteBuffer? {
        let sends = try receive(payload, from: sender)
        guard let changed = sends.first(where: { $0.to == nil })?.message else {
            send(sends)
            return nil
        }
        // The mesh passes the delta on to other neighbours but not back to the sender, whose
        // agreement may wait for exactly this answer (with two peers, nobody else would carry it).
        send(sends.filter { $0.to != nil } + [(sender, changed)])
        return changed.encode()
    }

    public func receiveUnicast(_ payload: ByteBuffer, from source: PeerName) throws {
        send(try receive(payload, from: source))
    }

    public func receiveBroadcast(_ payload: ByteBuffer, from source: PeerName) throws {
        send(try receive(payload, from: source))
    }

    // MARK: internals

    private func receive(_ payload: ByteBuffer, from source: PeerName) throws -> [Allocator.Send] {
        let message = try IPAMMessage.decode(payload)
        let result: Result<[Allocator.Send], IPAMError> = state.withLock { s in
            if message == .handoffAck { s.acks.insert(source) }
            do throws(IPAMError) {
                let (_, sends) = try s.core.receive(message, from: source, now: Self.now())
                logTransitions(&s)
                return .success(sends)
            } catch {
                if s.loggedConflicts.insert(error.description).inserted {
                    logger.error("IPAM: refused the ring of \(source): \(error)")
                }
                return .failure(error)
            }
        }
        notify()
        return try result.get()
    }

    /// Runs `body` until it is done or failed, waiting for changes in between.
    private func untilDone(timeout: Duration,
                           _ body: (inout State) -> (Allocator.Outcome, [Allocator.Send])) async throws(IPAMError) -> Allocation {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (outcome, generation) = state.withLock { s in
                let (outcome, sends) = body(&s)
                send(sends)
                return (outcome, s.generation)
            }
            switch outcome {
            case let .done(allocation):
                try persist()
                return allocation
            case let .failed(error):
                throw error
            case let .waiting(why):
                guard ContinuousClock.now < deadline else { throw IPAMError(.unavailable, why) }
                await waitForChange(after: generation)
            }
        }
    }

    private func apply(_ body: (inout State) -> [Allocator.Send]) {
        state.withLock { s in
            let sends = body(&s)
            logTransitions(&s)
            send(sends)
        }
    }

    private func logTransitions(_ s: inout State) {
        if s.core.isReady && !s.wasReady {
            s.wasReady = true
            let seeds = s.core.ring.seeds.map { s.core.describe($0) }.joined(separator: ", ")
            logger.notice("IPAM: ring of \(s.core.range) divided among \(seeds)")
        }
    }

    private func send(_ sends: [Allocator.Send]) {
        guard !sends.isEmpty else { return }
        for send in sends {
            if let to = send.to { sender.unicast(send.message.encode(), to: to) } else { sender.gossip(send.message.encode()) }
        }
    }

    /// Waits for the generation to move past `generation` (a change, or the next tick).
    private func waitForChange(after generation: UInt64) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s in
                guard s.generation == generation else { return true }
                s.waiters.append(c)
                return false
            }
            if now { c.resume() }
        }
    }

    private func notify() {
        let waiters = state.withLock { s in
            s.generation += 1
            defer { s.waiters.removeAll() }
            return s.waiters
        }
        waiters.forEach { $0.resume() }
    }

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
}
