public import NIOCore

/// A unit read from a mesh connection: the fixed header, then length-prefixed frames.
public enum MeshFrame: Sendable, Equatable {
    case header([UInt8])
    case frame(ByteBuffer)
}

/// Splits a mesh TCP stream: first the 8-byte `ProtocolHeader`, then frames of a 4-byte
/// big-endian length and that many bytes. A length above `maxFrameSize` is an error that closes
/// the connection before anything is buffered for it.
public struct MeshFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = MeshFrame

    /// The largest frame accepted (a sealed gossip chunk is far smaller).
    public static let defaultMaxFrameSize = 8 << 20

    private var sawHeader = false
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
        guard Int(length) <= maxFrameSize else {
            throw .tooLong(field: "frame", length: Int(length), limit: maxFrameSize)
        }
        guard buffer.readableBytes >= 4 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        return .frame(buffer.readSlice(length: Int(length))!)
    }
}
