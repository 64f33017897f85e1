/// The first eight bytes each side sends: the magic `WEFT`, the lowest and highest protocol
/// versions it speaks, and two reserved bytes (zero). The connection speaks the highest version
/// both ranges contain; ranges that do not overlap end the handshake.
public struct ProtocolHeader: Equatable, Sendable {
    public static let magic: [UInt8] = Array("WEFT".utf8)
    public static let size = 8
    /// The versions this build speaks.
    /// Version 2: the password step is CPace (version 1 sealed features under an
    /// X25519-and-password key, which gave anyone a tag to test guesses against offline).
    /// Version 1 is still named, so that a peer that speaks only it reads frames as before and
    /// is refused at its key hello with "no common protocol version", never handshaken with.
    public static let ours = ProtocolHeader(minVersion: 1, maxVersion: 2)
    /// The oldest version this build completes a handshake in.
    public static let oldestSpoken: UInt8 = 2

    public var minVersion: UInt8
    public var maxVersion: UInt8

    public init(minVersion: UInt8, maxVersion: UInt8) {
        self.minVersion = minVersion
        self.maxVersion = maxVersion
    }

    public var bytes: [UInt8] { Self.magic + [minVersion, maxVersion, 0, 0] }

    /// Parses the eight header bytes.
    public init(bytes: [UInt8]) throws(HandshakeFailure) {
        guard bytes.count == Self.size, Array(bytes.prefix(4)) == Self.magic else { throw .badMagic }
        guard bytes[4] <= bytes[5] else { throw .malformed("version range \(bytes[4])..\(bytes[5])") }
        self.init(minVersion: bytes[4], maxVersion: bytes[5])
    }

    /// The version both sides speak: the highest in both ranges.
    public func negotiate(with remote: ProtocolHeader) throws(HandshakeFailure) -> UInt8 {
        let version = min(maxVersion, remote.maxVersion)
        guard version >= max(minVersion, remote.minVersion) else {
            throw .versionMismatch(ours: minVersion...maxVersion, theirs: remote.minVersion...remote.maxVersion)
        }
        return version
    }
}
