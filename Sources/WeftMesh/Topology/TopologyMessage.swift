public import NIOCore
public import WeftTypes

/// A message on the `topology` gossip channel.
public enum TopologyMessage: Equatable, Sendable {
    /// Peer reports, whole or as deltas.
    case update([TopologyEntry])
    /// A request for the named peers' entries, each with the version the sender holds (0:
    /// none), answered with what changed since (whole when the history does not reach back
    /// or the incarnation differs). Sent when a delta's base is missing, and at the end of
    /// every answer to a digest (then possibly empty: it marks the answer complete).
    case request([PeerVersion])
    /// What the sender holds, one (name, uid, version) per peer: the receiver answers with the
    /// entries the sender lacks and requests those it lacks itself (anti-entropy without
    /// sending every connection list).
    case digest([PeerVersion])
    /// How many peers the sender holds and a checksum of their (name, uid, version): a
    /// receiver that holds something else answers with its digest. What a peer sends once the
    /// mesh is quiet, to catch anything gossip missed, at a few bytes rather than a digest.
    case summary(peers: Int, checksum: UInt64)

    /// Limits that keep a hostile message from making us allocate without bound.
    enum Limit {
        static let entries = 100_000
        static let connections = 100_000
        static let nickname = 255
        static let address = 64
    }

    public func encode(into buffer: inout ByteBuffer) {
        switch self {
        case let .update(entries):
            buffer.writeInteger(UInt8(1))
            buffer.writeInteger(UInt32(entries.count), endianness: .big)
            for e in entries {
                buffer.writePeerName(e.name)
                buffer.writeWireString(e.nickname)
                buffer.writeInteger(e.uid, endianness: .big)
                buffer.writeInteger(e.version, endianness: .big)
                buffer.writeInteger(e.baseVersion, endianness: .big)
                buffer.writeInteger(UInt32(e.upserts.count), endianness: .big)
                for c in e.upserts {
                    buffer.writePeerName(c.remote)
                    buffer.writeWireString(c.address)
                    buffer.writeInteger(UInt8((c.outbound ? 1 : 0) | (c.established ? 2 : 0)))
                }
                buffer.writeInteger(UInt32(e.removals.count), endianness: .big)
                for r in e.removals { buffer.writePeerName(r) }
            }
        case let .request(versions):
            buffer.writeInteger(UInt8(2))
            Self.encode(versions, into: &buffer)
        case let .digest(versions):
            buffer.writeInteger(UInt8(3))
            Self.encode(versions, into: &buffer)
        case let .summary(peers, checksum):
            buffer.writeInteger(UInt8(4))
            buffer.writeInteger(UInt32(clamping: peers), endianness: .big)
            buffer.writeInteger(checksum, endianness: .big)
        }
    }

    public static func decode(_ buffer: inout ByteBuffer) throws(WireError) -> TopologyMessage {
        let kind: UInt8 = try buffer.readWireInteger()
        switch kind {
        case 1:
            let count = try buffer.readWireCount(field: "entries", limit: Limit.entries, minElementSize: 40)
            var entries: [TopologyEntry] = []
            entries.reserveCapacity(count)
            for _ in 0..<count {
                let name = try buffer.readPeerName()
                let nickname = try buffer.readWireString(field: "nickname", limit: Limit.nickname)
                let uid: UInt64 = try buffer.readWireInteger()
                let version = try buffer.readWireVersion(field: "entry version")
                let base = try buffer.readWireVersion(field: "entry base version")
                guard version > 0, base < version else { throw .invalid("entry version \(base)..\(version)") }
                let nUp = try buffer.readWireCount(field: "connections", limit: Limit.connections, minElementSize: 9)
                var upserts: [ConnectionSummary] = []
                upserts.reserveCapacity(nUp)
                for _ in 0..<nUp {
                    let remote = try buffer.readPeerName()
                    let address = try buffer.readWireString(field: "address", limit: Limit.address)
                    let flags: UInt8 = try buffer.readWireInteger()
                    upserts.append(ConnectionSummary(remote: remote, address: address,
                                                     outbound: flags & 1 != 0, established: flags & 2 != 0))
                }
                let nRm = try buffer.readWireCount(field: "removals", limit: Limit.connections, minElementSize: 6)
                var removals: [PeerName] = []
                removals.reserveCapacity(nRm)
                for _ in 0..<nRm { removals.append(try buffer.readPeerName()) }
                entries.append(TopologyEntry(name: name, nickname: nickname, uid: uid, version: version,
                                             baseVersion: base, upserts: upserts, removals: removals))
            }
            return .update(entries)
        case 2:
            return .request(try decodeVersions(&buffer, field: "request"))
        case 3:
            return .digest(try decodeVersions(&buffer, field: "digest"))
        case 4:
            let peers: UInt32 = try buffer.readWireInteger()
            let checksum: UInt64 = try buffer.readWireInteger()
            return .summary(peers: Int(peers), checksum: checksum)
        default:
            throw .invalid("topology message kind \(kind)")
        }
    }

    private static func encode(_ versions: [PeerVersion], into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(versions.count), endianness: .big)
        for v in versions {
            buffer.writePeerName(v.name)
            buffer.writeInteger(v.uid, endianness: .big)
            buffer.writeInteger(v.version, endianness: .big)
        }
    }

    private static func decodeVersions(_ buffer: inout ByteBuffer, field: String) throws(WireError) -> [PeerVersion] {
        let count = try buffer.readWireCount(field: field, limit: Limit.entries, minElementSize: 22)
        var versions: [PeerVersion] = []
        versions.reserveCapacity(count)
        for _ in 0..<count {
            let name = try buffer.readPeerName()
            let uid: UInt64 = try buffer.readWireInteger()
            let version = try buffer.readWireVersion(field: "\(field) version")
            versions.append(PeerVersion(name: name, uid: uid, version: version))
        }
        return versions
    }
}

/// One line of a topology digest.
public struct PeerVersion: Hashable, Sendable {
    public var name: PeerName
    public var uid: UInt64
    public var version: UInt64

    public init(name: PeerName, uid: UInt64, version: UInt64) {
        self.name = name
        self.uid = uid
        self.version = version
    }

    /// Weave's order of two reports of one peer: the higher version wins; on a tie (two
    /// incarnations), the higher UID.
    func supersedes(_ other: PeerVersion) -> Bool {
        version > other.version || (version == other.version && uid > other.uid)
    }
}
