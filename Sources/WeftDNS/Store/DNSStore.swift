import WeftMesh
public import WeftTypes

/// The records every router holds: a CRDT of `DNSEntry`s merged per key by version (tombstone
/// on a tie), indexed by name and by address for the server. Pure: times are handed in
/// (seconds on any monotonic clock), so tests drive it.
///
/// Lifetimes: a tombstone is kept `tombstoneLifetime` and then dropped, raising its origin's
/// floor so older copies stay refused; the records of a peer unreachable for longer than
/// `grace` are dropped (it left for good), and refused while it stays away.
public struct DNSStore: Sendable {
    public let me: PeerName
    public var grace: Double
    public var tombstoneLifetime: Double

    private(set) var entries: [DNSEntry.Key: DNSEntry] = [:]
    /// Lower-cased name wire form → keys of its live records.
    private var byName: [NameKey: Set<DNSEntry.Key>] = [:]
    /// Lower-cased name wire form → the distinct addresses of its live records, sorted: what a
    /// query reads, kept up to date by `store` and `unstore` so a query does no set or sort.
    private var addressesByName: [NameKey: [UInt32]] = [:]
    private var byAddress: [UInt32: Set<DNSEntry.Key>] = [:]
    /// When each tombstone arrived here.
    private var buriedAt: [DNSEntry.Key: Double] = [:]
    /// Per origin: versions at or below this were tombstones now forgotten.
    private var floors: [PeerName: UInt64] = [:]
    /// Origins not reachable now, since when.
    private var lostSince: [PeerName: Double] = [:]
    /// The last version this peer gave one of its records.
    private(set) var clock: UInt64 = 0

    public init(me: PeerName, grace: Double = 600, tombstoneLifetime: Double = 3600) {
        self.me = me
        self.grace = grace
        self.tombstoneLifetime = tombstoneLifetime
    }

    // MARK: reading

    /// The addresses of live records named `name` (any case), in a stable order.
    public func addresses(of name: DNSName) -> [UInt32] { addressesByName[NameKey(name)] ?? [] }

    /// Whether any live record has this name.
    public func contains(_ name: DNSName) -> Bool { byName[NameKey(name)] != nil }

    /// The names of live records for `address`, in a stable order.
    public func names(of address: UInt32) -> [DNSName] {
        guard let keys = byAddress[address] else { return [] }
        var seen = Set<[UInt8]>()
        return keys.compactMap { entries[$0]?.hostname }.filter { seen.insert($0.lowercased.wire).inserted }
            .sorted { $0.description < $1.description }
    }

    /// Live records, ordered by name, address, container and origin.
    public var live: [DNSEntry] {
        entries.values.filter { !$0.tombstone }.sorted {
            ($0.hostname.description, $0.address, $0.containerID, $0.origin) < ($1.hostname.description, $1.address, $1.containerID, $1.origin)
        }
    }

    /// Every record, tombstones included: what a neighbour needs to catch up.
    public var all: [DNSEntry] { Array(entries.values) }

    /// This peer's own records, tombstones included (what is persisted).
    public var own: [DNSEntry] { entries.values.filter { $0.origin == me } }

    // MARK: this peer's changes

    /// Registers `hostname` → `address` for `containerID`. Returns the changed record (nil when
    /// it was already there).
    public mutating func add(hostname: DNSName, address: UInt32, containerID: String, now: Double) -> DNSEntry? {
        let candidate = DNSEntry(hostname: hostname, address: address, containerID: containerID, origin: me, version: 0)
        if let existing = entries[candidate.key], !existing.tombstone { return nil }
        var entry = candidate
        entry.version = nextVersion(now: now)
        store(entry, now: now)
        return entry
    }

    /// Deletes this peer's records of `containerID`, only those for `address` and/or `hostname`
    /// when given. Returns the tombstones.
    public mutating func remove(containerID: String, address: UInt32? = nil, hostname: DNSName? = nil, now: Double) -> [DNSEntry] {
        let name = hostname?.lowercased.wire
        let doomed = entries.values.filter {
            $0.origin == me && !$0.tombstone && $0.containerID == containerID
                && (address == nil || $0.address == address) && (name == nil || $0.hostname.lowercased.wire == name)
        }
        return doomed.map { entry in
            var t = entry
            t.version = nextVersion(now: now)
            t.tombstone = true
            store(t, now: now)
            return t
        }
    }

    /// Takes back this peer's records as persisted (at start-up).
    public mutating func restore(_ own: [DNSEntry], now: Double) {
        for e in own where e.origin == me {
            clock = max(clock, e.version)
            if entries[e.key].map({ e.supersedes($0) }) ?? true { store(e, now: now) }
        }
    }

    // MARK: gossip

    /// Merges records from a neighbour. Returns what was new here (to gossip onward) and
    /// corrections: records about this peer that it does not hold (a copy from before a restart
    /// that lost them) come back as tombstones, and its live records as newer versions.
    public mutating func merge(_ incoming: [DNSEntry], now: Double) -> (new: [DNSEntry], corrections: [DNSEntry]) {
        var new: [DNSEntry] = []
        var corrections: [DNSEntry] = []
        // Beyond the limit (decoders refuse them): the clock's "+ 1" past them would overflow.
        for e in incoming where VersionLimit.accepts(e.version) {
            if e.origin == me {
                clock = max(clock, e.version)
                let mine = entries[e.key]
                guard mine.map({ e.supersedes($0) }) ?? true else { continue }
                if e.tombstone, mine?.tombstone ?? true {
                    store(e, now: now)
                    continue
                }
                var truth = mine ?? e
                truth.tombstone = mine?.tombstone ?? true
                truth.version = nextVersion(now: now)
                store(truth, now: now)
                corrections.append(truth)
                continue
            }
            if isGone(e.origin, now: now) || e.version <= floors[e.origin, default: 0] { continue }
            if let existing = entries[e.key], !e.supersedes(existing) { continue }
            store(e, now: now)
            new.append(e)
        }
        return (new, corrections)
    }

    // MARK: lifetimes

    /// Tells the store which peers are reachable now.
    public mutating func update(reachable: Set<PeerName>, now: Double) {
        let origins = Set(entries.values.map(\.origin)).subtracting([me])
        for o in origins where !reachable.contains(o) && lostSince[o] == nil { lostSince[o] = now }
        for o in reachable { lostSince[o] = nil }
    }

    /// Drops the records of peers gone longer than `grace`, and old tombstones. Returns how
    /// many records went.
    @discardableResult
    public mutating func expire(now: Double) -> Int {
        var doomed: [DNSEntry.Key] = []
        for (key, entry) in entries {
            if isGone(entry.origin, now: now) {
                doomed.append(key)
            } else if entry.tombstone, let t = buriedAt[key], now - t > tombstoneLifetime {
                floors[entry.origin] = max(floors[entry.origin, default: 0], entry.version)
                doomed.append(key)
            }
        }
        for key in doomed { unstore(key) }
        return doomed.count
    }

    /// Forgets `peer`'s records at once (`rmpeer`).
    public mutating func forget(_ peer: PeerName) {
        for key in entries.keys where key.origin == peer { unstore(key) }
    }

    // MARK: internals

    private func isGone(_ origin: PeerName, now: Double) -> Bool {
        guard let since = lostSince[origin] else { return false }
        return now - since > grace
    }

    /// A version above every earlier one of this peer, close to the wall clock in milliseconds
    /// so a peer that lost its state still outranks its records from before.
    private mutating func nextVersion(now: Double) -> UInt64 {
        clock = max(clock + 1, UInt64(max(0, (now * 1000).rounded())))
        return clock
    }

    private mutating func store(_ e: DNSEntry, now: Double) {
        unstore(e.key)
        entries[e.key] = e
        if e.tombstone {
            buriedAt[e.key] = now
        } else {
            let name = NameKey(lowercasedWire: e.key.name)
            byName[name, default: []].insert(e.key)
            byAddress[e.address, default: []].insert(e.key)
            reindexAddresses(of: name)
        }
    }

    private mutating func reindexAddresses(of name: NameKey) {
        addressesByName[name] = byName[name].map { Array(Set($0.map(\.address))).sorted() }
    }

    private mutating func unstore(_ key: DNSEntry.Key) {
        guard let old = entries.removeValue(forKey: key) else { return }
        buriedAt[key] = nil
        if !old.tombstone {
            let name = NameKey(lowercasedWire: key.name)
            byName[name]?.remove(key)
            if byName[name]?.isEmpty == true { byName[name] = nil }
            reindexAddresses(of: name)
            byAddress[key.address]?.remove(key)
            if byAddress[key.address]?.isEmpty == true { byAddress[key.address] = nil }
        }
    }
}

/// A lower-cased name's wire form as a dictionary key, hashed as one block of bytes (an
/// `[UInt8]` key hashes byte by byte: most of a lookup's cost when a query is answered).
struct NameKey: Hashable, Sendable {
    let wire: [UInt8]

    init(lowercasedWire: [UInt8]) { wire = lowercasedWire }

    init(_ name: DNSName) { wire = name.lowercased.wire }

    func hash(into hasher: inout Hasher) {
        wire.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}
