import WeftMesh
public import WeftTypes

/// The header of every sleeve datagram on UDP 6783 (30 bytes, big-endian):
///
///     0  version (2)      1  flags      2  hops left      3  reserved (0)
///     4  source peer (6: where the frames entered the overlay)
///    10  destination peer (6: where they leave it; zero for a broadcast)
///    16  sender peer (6: the hop that sent this datagram, whose session key seals it)
///    22  counter (8: the nonce of the seal, and the replay-window position)
///
/// Then the body: frames, each a u16 length and the Ethernet frame, sealed as one AEAD message
/// (the header is its associated data) when the mesh has a password. A frame too large for one
/// datagram travels in fragments instead, one per datagram, each body a `FragmentHeader` and a
/// piece of the frame; sealed, the fragment header is associated data too and the piece alone
/// the message (so a piece is sealed straight from the capture ring). A heartbeat's body is three bytes (flags:
/// bit 0 "I hear you", bit 1 "I trust your subnet", bit 2 "probe"; then the largest probe
/// received from the receiver lately, u16), padded with zeros when it is a path-MTU probe.
///
/// Version 2: frames travel as the sender's stack made them (TCP and UDP checksums unfinished,
/// TCP super-frames longer than the MTU: `OffloadHeader`); a version-1 router would deliver
/// those broken, so each refuses the other's datagrams (counted malformed) instead.
public struct SleeveHeader: Equatable, Sendable {
    public static let size = 30

    /// The bytes at the start of a datagram with `flags` that are authenticated but not sealed:
    /// the header, and a fragment's `FragmentHeader`.
    @inline(__always)
    public static func clearBytes(_ flags: Flags) -> Int { flags.contains(.fragment) ? size + FragmentHeader.size : size }
    public static let version: UInt8 = 2
    /// Hops a datagram may take before it is dropped (relays decrement it).
    public static let maxHops: UInt8 = 8

    public struct Flags: OptionSet, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// The body is sealed.
        public static let sealed = Flags(rawValue: 1)
        /// The frames go to every peer, along the source's broadcast tree.
        public static let broadcast = Flags(rawValue: 2)
        /// No frames: a heartbeat between neighbours.
        public static let heartbeat = Flags(rawValue: 4)
        /// The body is one fragment of a frame.
        public static let fragment = Flags(rawValue: 8)
    }

    public var flags: Flags
    public var hops: UInt8
    public var source: PeerName
    public var destination: PeerName
    public var sender: PeerName
    public var counter: UInt64

    public init(flags: Flags, hops: UInt8 = maxHops, source: PeerName, destination: PeerName, sender: PeerName,
                counter: UInt64) {
        self.flags = flags
        self.hops = hops
        self.source = source
        self.destination = destination
        self.sender = sender
        self.counter = counter
    }

    /// Writes the header into the first 30 bytes of `out`.
    public func write(to out: UnsafeMutableRawBufferPointer) {
        out[0] = Self.version
        out[1] = flags.rawValue
        out[2] = hops
        out[3] = 0
        Self.put(source.rawValue, 6, out, 4)
        Self.put(destination.rawValue, 6, out, 10)
        Self.put(sender.rawValue, 6, out, 16)
        Self.put(counter, 8, out, 22)
    }

    /// Reads a header; nil when the bytes are too short, of another version, or carry unknown
    /// flags.
    public init?(from bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= Self.size, bytes[0] == Self.version, bytes[3] == 0,
              bytes[1] & ~UInt8(15) == 0 else { return nil }
        flags = Flags(rawValue: bytes[1])
        hops = bytes[2]
        source = PeerName(rawValue: Self.get(bytes, 4, 6))
        destination = PeerName(rawValue: Self.get(bytes, 10, 6))
        sender = PeerName(rawValue: Self.get(bytes, 16, 6))
        counter = Self.get(bytes, 22, 8)
    }

    @inline(__always)
    static func put(_ value: UInt64, _ width: Int, _ out: UnsafeMutableRawBufferPointer, _ at: Int) {
        for i in 0..<width { out[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(width - 1 - i))) }
    }

    @inline(__always)
    static func get(_ bytes: UnsafeRawBufferPointer, _ at: Int, _ width: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<width { v = v << 8 | UInt64(bytes[at + i]) }
        return v
    }
}
