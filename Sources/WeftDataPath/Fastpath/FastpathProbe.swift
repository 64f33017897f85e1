public import WeftTypes

/// The frame that tests a peer's fast path: sent through the VXLAN device (so it crosses the
/// underlay exactly as container frames do, in UDP 6784) to the peer's bridge MAC, and caught
/// there on the VXLAN device by a capture filtered on its EtherType. Padded to the largest
/// frame the overlay carries, so a path that cannot carry those fails the probe.
///
/// Layout: destination MAC, source MAC, EtherType 0x88B5 (IEEE local experimental), "WFDP",
/// version 1, flags (bit 0: the sender hears the receiver's probes), sender and receiver peer
/// names (6 bytes each), then zeros.
public struct FastpathProbe: Equatable, Sendable {
    public static let etherType: UInt16 = 0x88B5
    public static let size = 32
    static let magic: [UInt8] = Array("WFDP".utf8)

    public var sender: PeerName
    public var receiver: PeerName
    /// The sender has heard the receiver's probes lately.
    public var hearsReceiver: Bool

    public init(sender: PeerName, receiver: PeerName, hearsReceiver: Bool) {
        self.sender = sender
        self.receiver = receiver
        self.hearsReceiver = hearsReceiver
    }

    /// Writes the probe as a frame of `length` bytes (at least `size`) into `buffer`.
    public func write(into buffer: UnsafeMutableRawBufferPointer, length: Int) {
        precondition(length >= Self.size && buffer.count >= length)
        var i = 0
        func put(_ bytes: [UInt8]) { for b in bytes { buffer[i] = b; i += 1 } }
        put(MAC.bridge(of: receiver).bytes)
        put(MAC.bridge(of: sender).bytes)
        put([UInt8(Self.etherType >> 8), UInt8(Self.etherType & 0xFF)])
        put(Self.magic)
        put([1, hearsReceiver ? 1 : 0])
        put(MAC(rawValue: sender.rawValue).bytes)
        put(MAC(rawValue: receiver.rawValue).bytes)
        while i < length { buffer[i] = 0; i += 1 }
    }

    /// Reads a probe from a captured frame; nil for anything else.
    public init?(frame: UnsafeRawBufferPointer) {
        guard frame.count >= Self.size, frame[12] == 0x88, frame[13] == 0xB5,
              Array(frame[14..<18]) == Self.magic, frame[18] == 1, frame[19] <= 1 else { return nil }
        sender = PeerName(rawValue: MAC(frame, at: 20).rawValue)
        receiver = PeerName(rawValue: MAC(frame, at: 26).rawValue)
        hearsReceiver = frame[19] == 1
    }
}

extension MAC {
    /// The MAC of a peer's `weft` bridge: its name, with the locally-administered bit set and
    /// the group bit clear (names given with `--name` may lack them). Fixed, so containers'
    /// neighbour entries for the DNS address and peers' forwarding entries stay right.
    public static func bridge(of peer: PeerName) -> MAC {
        MAC(rawValue: (peer.rawValue | 0x0200_0000_0000) & ~0x0100_0000_0000)
    }
}
