public import NIOCore
public import WeftMesh
public import WeftTypes

/// What IPAM routers say to each other on the `ipam` gossip channel.
public enum IPAMMessage: Hashable, Sendable {
    /// Gossip, and the reply to a space request: the ring, the agreement's claims while no ring
    /// exists, and the nicknames of ring owners (so `rmpeer` can name a peer long gone).
    case state(ring: Ring, paxos: [PeerName: PaxosClaims], nicknames: [PeerName: String])
    /// "Give me some of your free space in this subnet."
    case spaceRequest(Subnet)
    /// "I have none to spare in this subnet."
    case spaceDenied(Subnet)
    /// A leaving router's last ring, in which all its space is the recipient's; answered by
    /// `handoffAck` so the leaver knows it arrived.
    case handoff(Ring)
    case handoffAck

    /// Bounds on what a decoder accepts.
    static let maxEntries = 1 << 20
    static let maxPeers = 1 << 16

    private enum Kind: UInt8 {
        case state = 1, spaceRequest, spaceDenied, handoff, handoffAck
    }

    public func encode() -> ByteBuffer {
        var b = ByteBuffer()
        switch self {
        case let .state(ring, paxos, nicknames):
            b.writeInteger(Kind.state.rawValue)
            b.writeRing(ring)
            b.writeInteger(UInt32(paxos.count), endianness: .big)
            for (name, claims) in paxos.sorted(by: { $0.key < $1.key }) {
                b.writePeerName(name)
                b.writeProposal(claims.promise)
                b.writeProposal(claims.accepted)
                b.writePeerNames(claims.value)
            }
            b.writeInteger(UInt32(nicknames.count), endianness: .big)
            for (name, nickname) in nicknames.sorted(by: { $0.key < $1.key }) {
                b.writePeerName(name)
                b.writeWireString(nickname)
            }
        case let .spaceRequest(subnet), let .spaceDenied(subnet):
            b.writeInteger((self == .spaceRequest(subnet) ? Kind.spaceRequest : .spaceDenied).rawValue)
            b.writeInteger(subnet.start, endianness: .big)
            b.writeInteger(UInt8(subnet.prefix))
        case let .handoff(ring):
            b.writeInteger(Kind.handoff.rawValue)
            b.writeRing(ring)
        case .handoffAck:
            b.writeInteger(Kind.handoffAck.rawValue)
        }
        return b
    }

    /// Decodes one message, refusing anything malformed (see `Ring`'s invariants).
    public static func decode(_ payload: ByteBuffer) throws(WireError) -> IPAMMessage {
        var b = payload
        guard let kind = Kind(rawValue: try b.readWireInteger(as: UInt8.self)) else {
            throw .invalid("IPAM message kind")
        }
        let message: IPAMMessage
        switch kind {
        case .state:
            let ring = try b.readRing()
            var paxos: [PeerName: PaxosClaims] = [:]
            for _ in 0..<(try b.readWireCount(field: "paxos claims", limit: maxPeers, minElementSize: 38)) {
                let name = try b.readPeerName()
                let claims = PaxosClaims(promise: try b.readProposal(), accepted: try b.readProposal(),
                                         value: try b.readPeerNames(field: "paxos value"))
                guard paxos.updateValue(claims, forKey: name) == nil else { throw .invalid("repeated paxos claims") }
            }
            var nicknames: [PeerName: String] = [:]
            for _ in 0..<(try b.readWireCount(field: "nicknames", limit: maxPeers, minElementSize: 8)) {
                let name = try b.readPeerName()
                nicknames[name] = try b.readWireString(field: "nickname", limit: 255)
            }
            message = .state(ring: ring, paxos: paxos, nicknames: nicknames)
        case .spaceRequest, .spaceDenied:
            let start: UInt32 = try b.readWireInteger()
            guard let subnet = Subnet(start: start, prefix: Int(try b.readWireInteger(as: UInt8.self))) else {
                throw .invalid("subnet")
            }
            message = kind == .spaceRequest ? .spaceRequest(subnet) : .spaceDenied(subnet)
        case .handoff:
            message = .handoff(try b.readRing())
        case .handoffAck:
            message = .handoffAck
        }
        guard b.readableBytes == 0 else { throw .invalid("trailing bytes after IPAM message") }
        return message
    }
}

extension ByteBuffer {
    mutating func writeRing(_ ring: Ring) {
        writeInteger(ring.start, endianness: .big)
        writeInteger(ring.end, endianness: .big)
        writePeerNames(ring.seeds)
        writeInteger(UInt32(ring.entries.count), endianness: .big)
        for e in ring.entries {
            writeInteger(e.token, endianness: .big)
            writePeerName(e.owner)
            writeInteger(e.version, endianness: .big)
            writeInteger(e.free, endianness: .big)
        }
    }

    /// A ring, checked: a non-empty range, seeds sorted and distinct, tokens strictly rising
    /// from `start` and inside the range, free counts no larger than their ranges, and seeds
    /// exactly when there are entries.
    mutating func readRing() throws(WireError) -> Ring {
        let start: UInt32 = try readWireInteger()
        let end: UInt32 = try readWireInteger()
        guard start < end else { throw .invalid("ring range") }
        var ring = Ring(start: start, end: end)
        ring.seeds = try readPeerNames(field: "ring seeds")
        guard zip(ring.seeds, ring.seeds.dropFirst()).allSatisfy({ $0 < $1 }) else { throw .invalid("ring seeds order") }
        let count = try readWireCount(field: "ring entries", limit: IPAMMessage.maxEntries, minElementSize: 18)
        var entries: [RingEntry] = []
        entries.reserveCapacity(count)
        for _ in 0..<count {
            let e = RingEntry(token: try readWireInteger(), owner: try readPeerName(),
                              version: try readWireInteger(), free: try readWireInteger())
            // Owners add one to their entries' 32-bit versions: refuse one that would overflow.
            guard e.version <= UInt32.max / 2 else { throw .invalid("ring entry version \(e.version) is beyond the limit") }
            guard e.token < end, entries.last.map({ $0.token < e.token }) ?? (e.token == start) else {
                throw .invalid("ring token order")
            }
            entries.append(e)
        }
        ring.entries = entries
        guard ring.seeds.isEmpty == entries.isEmpty,
              entries.indices.allSatisfy({ UInt64(entries[$0].free) <= ring.rangeSize(at: $0) }) else {
            throw .invalid("ring entries")
        }
        return ring
    }

    mutating func writePeerNames(_ names: [PeerName]) {
        writeInteger(UInt32(names.count), endianness: .big)
        for n in names { writePeerName(n) }
    }

    mutating func readPeerNames(field: String) throws(WireError) -> [PeerName] {
        let n = try readWireCount(field: field, limit: IPAMMessage.maxPeers, minElementSize: 6)
        var names: [PeerName] = []
        for _ in 0..<n { names.append(try readPeerName()) }
        return names
    }

    mutating func writeProposal(_ p: ProposalID) {
        writeInteger(p.round, endianness: .big)
        writePeerName(p.proposer)
    }

    mutating func readProposal() throws(WireError) -> ProposalID {
        ProposalID(round: try readWireVersion(field: "Paxos round"), proposer: try readPeerName())
    }
}
