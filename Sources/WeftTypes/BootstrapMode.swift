/// How the first division of the ring is agreed (`--ipalloc-init`).
public enum BootstrapMode: Hashable, Sendable, CustomStringConvertible {
    /// Paxos among `peers` expected peers; a decision needs a majority of them.
    case consensus(peers: Int)
    /// Every peer divides the ring among these peers, with no vote.
    case seed([PeerName])
    /// Never owns space at the start and never votes; gets space by asking.
    case observer

    /// Parses `consensus[=N]`, `seed=NAME,...` or `observer`. Without N, the quorum comes from
    /// the peers given at launch, counting this one (so the quorum is Weave's `(peers + 1) / 2 + 1`).
    public static func parse(_ text: String?, initialPeers: Int) throws(ValueError) -> BootstrapMode {
        let text = text ?? "consensus"
        if text == "consensus" { return .consensus(peers: initialPeers + 1) }
        if text == "observer" { return .observer }
        if text.hasPrefix("consensus=") {
            guard let n = Int(text.dropFirst("consensus=".count)), n >= 1, n <= 10_000 else {
                throw ValueError("--ipalloc-init consensus=N needs a peer count from 1 to 10000")
            }
            return .consensus(peers: n)
        }
        if text.hasPrefix("seed=") {
            let names = text.dropFirst("seed=".count).split(separator: ",").map(String.init)
            let peers = names.compactMap(PeerName.init)
            guard !names.isEmpty, peers.count == names.count else {
                throw ValueError("--ipalloc-init seed= needs peer names (like 00:00:00:00:00:01), comma-separated")
            }
            return .seed(Array(Set(peers)).sorted())
        }
        throw ValueError("--ipalloc-init must be consensus[=N], seed=NAME,... or observer, not '\(text)'")
    }

    /// Whether the ring is divided among seeds.
    public var isSeed: Bool { if case .seed = self { true } else { false } }

    public var description: String {
        switch self {
        case let .consensus(peers): "consensus=\(peers) (quorum \(peers / 2 + 1))"
        case let .seed(peers): "seed=\(peers.map(\.description).joined(separator: ","))"
        case .observer: "observer"
        }
    }
}
