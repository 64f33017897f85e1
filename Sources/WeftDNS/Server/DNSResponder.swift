public import WeftTypes

/// Decides the answer to one query from the record store: names in the domain and reverse
/// names of overlay addresses are answered here, everything else is for the upstream
/// resolvers. Pure: the server hands it the store and a rotation counter.
public struct DNSResponder: Sendable {
    public var domain: DNSName
    public var ttl: UInt32
    /// Reverse lookups of addresses in this range (start, size) are answered here even when no
    /// record matches (NXDOMAIN); others without a record go upstream.
    public var overlay: (start: UInt32, size: UInt64)?

    /// The largest UDP payload this server sends, whatever a client advertises.
    public static let maxUDPPayload = 4096

    public init(domain: DNSName, ttl: UInt32, overlay: (start: UInt32, size: UInt64)?) {
        self.domain = domain
        self.ttl = ttl
        self.overlay = overlay
    }

    public enum Outcome: Equatable, Sendable {
        case answer(DNSMessage)
        /// Not ours: ask the upstream resolvers.
        case forward
        /// Not a query (a response, or no header): say nothing.
        case drop
    }

    /// The answer to `query`; `rotation` picks which address comes first when a name has several.
    public func respond(to query: DNSMessage, store: DNSStore, rotation: Int) -> Outcome {
        if query.isResponse { return .drop }
        guard query.opcode == 0 else { return .answer(reply(to: query, code: .notImplemented)) }
        guard query.questions.count == 1, let q = query.questions.first else {
            return .answer(reply(to: query, code: .formatError))
        }
        if q.name.isSubdomain(of: domain) {
            let addresses = store.addresses(of: q.name)
            guard !addresses.isEmpty else { return .answer(reply(to: query, code: .nameError)) }
            guard q.type == .a || q.type == .any else { return .answer(reply(to: query)) }
            let start = rotation % addresses.count
            let rotated = addresses[start...] + addresses[..<start]
            return .answer(reply(to: query, answers: rotated.map {
                DNSResourceRecord(name: q.name, type: .a, ttl: ttl, data: .a($0))
            }))
        }
        if let address = q.name.reverseAddress {
            let names = store.names(of: address)
            if names.isEmpty {
                guard let overlay, address >= overlay.start, UInt64(address - overlay.start) < overlay.size else { return .forward }
                return .answer(reply(to: query, code: .nameError))
            }
            guard q.type == .ptr || q.type == .any else { return .answer(reply(to: query)) }
            return .answer(reply(to: query, answers: names.map {
                DNSResourceRecord(name: q.name, type: .ptr, ttl: ttl, data: .name($0))
            }))
        }
        return .forward
    }

    /// How large a UDP answer to `query` may be: 512 bytes, or what its EDNS0 record asks for
    /// (up to `maxUDPPayload`).
    public static func udpLimit(for query: DNSMessage) -> Int {
        max(512, min(query.ednsPayloadSize ?? 512, maxUDPPayload))
    }

    /// A response to `query`: its ID, opcode and RD echoed, AA for our own domain, RA set (we
    /// recurse through the upstream resolvers), its question, and an OPT record when it had one.
    public func reply(to query: DNSMessage, code: DNSResponseCode = .noError, answers: [DNSResourceRecord] = []) -> DNSMessage {
        let flags = DNSMessage.qr | query.flags & (0x7800 | DNSMessage.rd) | DNSMessage.aa | DNSMessage.ra | code.rawValue
        let opt = query.ednsPayloadSize == nil ? [] : [DNSResourceRecord.opt(payloadSize: Self.maxUDPPayload)]
        return DNSMessage(id: query.id, flags: flags, questions: query.questions, answers: answers, additionals: opt)
    }
}
