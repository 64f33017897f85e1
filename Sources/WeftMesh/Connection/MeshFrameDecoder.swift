public import NIOCore

/// A unit read from a mesh connection: the fixed header, then length-prefixed frames.
public enum MeshFrame: Sendable, Equatable {
    case header([UInt8])
    case frame(ByteBuffer)
}

/// Splits a mesh TCP stream: first the 8-byte `ProtocolHeader`, then frames of a 4-byte
/// big-endian length and that many bytes. A length above `maxFrameSize` (above
/// `handshakeFrameSize` for the two handshake frames, before the remote has proved anything)
/// is an error that closes the connection before anything is buffered for it.
public struct MeshFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = MeshFrame

    /// The largest frame accepted (a sealed gossip chunk is far smaller).
    public static let defaultMaxFrameSize = 8 << 20

    /// The largest handshake frame: the key hello, or the features (a nickname and up to 255
    /// capabilities of 64 bytes, sealed).
    public static let handshakeFrameSize = 32 << 10
    /// Frames of the handshake after the header: the key hello and the features.
    static let handshakeFrames = 2

    private var sawHeader = false
    private var frames = 0
    private let maxFrameSize: Int

    public init(maxFrameSize: Int = defaultMaxFrameSize) { self.maxFrameSize = maxFrameSize }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try next(&buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    /// Takes the next header or frame off `buffer`, or nil when more bytes are needed.
    public mutating func next(_ buffer: inout ByteBuffer) throws(WireError) -> MeshFrame? {
        if !sawHeader {
            guard let header = buffer.readBytes(length: ProtocolHeader.size) else { return nil }
            sawHeader = true
            return .header(header)
        }
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt32.self) else { return nil }
        let limit = frames < Self.handshakeFrames ? min(maxFrameSize, Self.handshakeFrameSize) : maxFrameSize
        guard Int(length) <= limit else {
            throw .tooLong(field: frames < Self.handshakeFrames ? "handshake frame" : "frame", length: Int(length), limit: limit)
        }
        guard buffer.readableBytes >= 4 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        frames += 1
        return .frame(buffer.readSlice(length: Int(length))!)
    }
}
