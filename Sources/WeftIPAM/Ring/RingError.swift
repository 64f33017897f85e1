import WeftMesh
public import WeftTypes

/// Why a ring from another peer was not merged.
public enum RingError: Error, Equatable, CustomStringConvertible {
    /// The other ring covers another address range (another `--ipalloc-range`).
    case differentRange
    /// The other ring was divided among other peers: another agreement, or another seed list.
    case differentSeeds(mine: [PeerName], theirs: [PeerName])

    public var description: String {
        switch self {
        case .differentRange: "IPAM ring over a different --ipalloc-range"
        case let .differentSeeds(mine, theirs):
            "IPAM ring seed mismatch: ours was divided among \(mine.map(\.description).joined(separator: ",")), "
                + "theirs among \(theirs.map(\.description).joined(separator: ","))"
        }
    }
}
