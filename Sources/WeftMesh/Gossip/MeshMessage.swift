public import NIOCore
public import WeftTypes

/// A message on an established mesh connection (inside one frame, after the handshake).
///
/// Wire format: a tag byte, then for gossip messages the channel name (8-bit length), the source
/// peer (6 bytes), for unicasts the destination peer, and the payload as the rest of the frame.
public enum MeshMessage: Sendable, Equatable {
    /// Keeps an idle connection alive; carries nothing.
    case heartbeat
    /// Gossip for a neighbour: state to merge, forwarded onward only if it was new.
    case gossip(channel: String, source: PeerName, payload: ByteBuffer)
    /// For one peer, forwarded hop by hop along unicast routes.
    case unicast(channel: String, source: PeerName, destination: PeerName, payload: ByteBuffer)
    /// For every peer, forwarded along the broadcast tree rooted at the source.
    case broadcast(channel: String, source: PeerName, payload: ByteBuffer)

    static let maxChannelName = 64

    public func encode(into buffer: inout ByteBuffer) {
        switch self {
        case .heartbeat:
            buffer.writeInteger(UInt8(0))
        case let .gossip(channel, source, payload):
            buffer.writeInteger(UInt8(1))
            Self.writeChannel(channel, into: &buffer)
            buffer.writePeerName(source)
            buffer.writeImmutableBuffer(payload)
        case let .unicast(channel, source, destination, payload):
            buffer.writeInteger(UInt8(2))
            Self.writeChannel(channel, into: &buffer)
            buffer.writePeerName(source)
            buffer.writePeerName(destination)
            buffer.writeImmutableBuffer(payload)
        case let .broadcast(channel, source, payload):
            buffer.writeInteger(UInt8(3))
            Self.writeChannel(channel, into: &buffer)
            buffer.writePeerName(source)
            buffer.writeImmutableBuffer(payload)
        }
    }

    /// Decodes one frame's content; the payload is a slice of `buffer`, not a copy.
    public static func decode(_ buffer: inout ByteBuffer) throws(WireError) -> MeshMessage {
        let tag: UInt8 = try buffer.readWireInteger()
        switch tag {
        case 0:
            return .heartbeat
        case 1:
            let channel = try readChannel(&buffer)
            let source = try buffer.readPeerName()
            return .gossip(channel: channel, source: source, payload: buffer.readSlice(length: buffer.readableBytes)!)
        case 2:
            let channel = try readChannel(&buffer)
            let source = try buffer.readPeerName()
            let destination = try buffer.readPeerName()
            return .unicast(channel: channel, source: source, destination: destination,
                            payload: buffer.readSlice(length: buffer.readableBytes)!)
        case 3:
            let channel = try readChannel(&buffer)
            let source = try buffer.readPeerName()
            return .broadcast(channel: channel, source: source, payload: buffer.readSlice(length: buffer.readableBytes)!)
        default:
            throw .invalid("message tag \(tag)")
        }
    }

    /// The channel the message belongs to (`nil` for a heartbeat).
    public var channel: String? {
        switch self {
        case .heartbeat: nil
        case let .gossip(c, _, _), let .unicast(c, _, _, _), let .broadcast(c, _, _): c
        }
    }

    private static func writeChannel(_ name: String, into buffer: inout ByteBuffer) {
        let bytes = Array(name.utf8.prefix(maxChannelName))
        buffer.writeInteger(UInt8(bytes.count))
        buffer.writeBytes(bytes)
    }

    private static func readChannel(_ buffer: inout ByteBuffer) throws(WireError) -> String {
        let length = Int(try buffer.readWireInteger(as: UInt8.self))
        guard length <= maxChannelName else { throw .tooLong(field: "channel", length: length, limit: maxChannelName) }
        return try buffer.readValidUTF8(length: length, field: "channel")
    }
}
