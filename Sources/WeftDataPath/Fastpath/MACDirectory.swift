public import NIOCore
public import WeftMesh
public import WeftTypes

/// Which MACs sit behind which peer (its containers' and its bridge's), as each peer announces
/// them on the `macs` gossip channel: the fast path programs its forwarding entries from it.
/// Each peer owns its own entry, replaced whole under a rising version (milliseconds of the
/// owner's clock, kept increasing), so merging keeps the higher version. Pure.
public struct MACDirectory: Sendable {
    public struct Entry: Equatable, Sendable {
        public var version: UInt64
        public var macs: Set<MAC>

        public init(version: UInt64, macs: Set<MAC>) {
            self.version = version
            self.macs = macs
        }
    }

    public let me: PeerName
    public private(set) var entries: [PeerName: Entry] = [:]

    public init(me: PeerName) { self.me = me }

    /// Sets this peer's MACs; returns its new entry, or nil when nothing changed.
    public mutating func setLocal(_ macs: Set<MAC>, now: Double) -> Entry? {
        if let mine = entries[me], mine.macs == macs { return nil }
        let version = max((entries[me]?.version ?? 0) + 1, UInt64(max(0, now * 1000)))
        entries[me] = Entry(version: version, macs: macs)
        return entries[me]
    }

    /// Merges entries from a neighbour; returns what was new here. An entry of this peer newer
    /// than its own (from before a restart that lost it) makes it re-announce its own above it.
    public mutating func merge(_ incoming: [PeerName: Entry]) -> (new: [PeerName: Entry], correction: Entry?) {
        var new: [PeerName: Entry] = [:]
        var correction: Entry? = nil
        for (peer, entry) in incoming {
            let known = entries[peer]?.version ?? 0
            // Beyond the limit (decoders refuse it): our "+ 1" past it would overflow.
            guard entry.version > known, VersionLimit.accepts(entry.version) else { continue }
            if peer == me {
                let mine = entries[me]?.macs ?? []
                entries[me] = Entry(version: entry.version + 1, macs: mine)
                correction = entries[me]
                continue
            }
            entries[peer] = entry
            new[peer] = entry
        }
        return (new, correction)
    }

    /// The MACs behind `peer`.
    public func macs(of peer: PeerName) -> Set<MAC> { entries[peer]?.macs ?? [] }

    // MARK: wire

    static let maxPeers = 1 << 16
    static let maxMACs = 1 << 16

    /// A u32 count of peers, then per peer: name (6 bytes), version u64, u32 count of MACs, MACs
    /// (6 bytes each).
    public static func encode(_ entries: [PeerName: Entry]) -> ByteBuffer {
        var b = ByteBuffer()
        b.writeInteger(UInt32(entries.count), endianness: .big)
        for (peer, entry) in entries.sorted(by: { $0.key < $1.key }) {
            b.writePeerName(peer)
            b.writeInteger(entry.version, endianness: .big)
            b.writeInteger(UInt32(entry.macs.count), endianness: .big)
            for mac in entry.macs.sorted(by: { $0.rawValue < $1.rawValue }) {
                b.writePeerName(PeerName(rawValue: mac.rawValue))
            }
        }
        return b
    }

    public static func decode(_ payload: ByteBuffer) throws(WireError) -> [PeerName: Entry] {
        var b = payload
        let count = try b.readWireCount(field: "peers", limit: maxPeers, minElementSize: 18)
        var entries: [PeerName: Entry] = [:]
        for _ in 0..<count {
            let peer = try b.readPeerName()
            let version = try b.readWireVersion(field: "MAC directory version")
            let n = try b.readWireCount(field: "MACs", limit: maxMACs, minElementSize: 6)
            var macs = Set<MAC>()
            for _ in 0..<n { macs.insert(MAC(rawValue: try b.readPeerName().rawValue)) }
            guard entries.updateValue(Entry(version: version, macs: macs), forKey: peer) == nil else {
                throw .invalid("peer listed twice")
            }
        }
        guard b.readableBytes == 0 else { throw .invalid("bytes after the MAC directory") }
        return entries
    }
}
