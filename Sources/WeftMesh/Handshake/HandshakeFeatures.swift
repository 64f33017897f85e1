public import NIOCore
public import WeftTypes

/// What each side tells the other once the key exchange is done (sealed when a password is set).
public struct HandshakeFeatures: Equatable, Sendable {
    public var name: PeerName
    public var nickname: String
    public var uid: UInt64
    /// Random per connection; both ends XOR the two into the connection's UID.
    public var connectionID: UInt64
    /// Optional features this peer supports (`sleeve`, `fastdp`, …).
    public var capabilities: [String]

    public init(name: PeerName, nickname: String, uid: UInt64, connectionID: UInt64, capabilities: [String]) {
        self.name = name
        self.nickname = nickname
        self.uid = uid
        self.connectionID = connectionID
        self.capabilities = capabilities
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writePeerName(name)
        buffer.writeWireString(nickname)
        buffer.writeInteger(uid, endianness: .big)
        buffer.writeInteger(connectionID, endianness: .big)
        buffer.writeInteger(UInt8(capabilities.count))
        for c in capabilities.prefix(255) { buffer.writeWireString(c) }
    }

    public static func decode(_ buffer: inout ByteBuffer) throws(WireError) -> HandshakeFeatures {
        let name = try buffer.readPeerName()
        let nickname = try buffer.readWireString(field: "nickname", limit: 255)
        let uid: UInt64 = try buffer.readWireInteger()
        let connectionID: UInt64 = try buffer.readWireInteger()
        guard uid != 0 else { throw .invalid("zero peer UID") }
        let count = Int(try buffer.readWireInteger(as: UInt8.self))
        var capabilities: [String] = []
        for _ in 0..<count { capabilities.append(try buffer.readWireString(field: "capability", limit: 64)) }
        return HandshakeFeatures(name: name, nickname: nickname, uid: uid, connectionID: connectionID,
                                 capabilities: capabilities)
    }
}

/// The second handshake message, always in clear: whether this side encrypts, and if so its
/// CPace share for this connection (32 bytes, a ristretto255 point).
public struct KeyHello: Equatable, Sendable {
    public var publicKey: [UInt8]?

    public init(publicKey: [UInt8]?) { self.publicKey = publicKey }

    public func encode(into buffer: inout ByteBuffer) {
        if let publicKey {
            buffer.writeInteger(UInt8(1))
            buffer.writeBytes(publicKey)
        } else {
            buffer.writeInteger(UInt8(0))
        }
    }

    public static func decode(_ buffer: inout ByteBuffer) throws(WireError) -> KeyHello {
        let flag: UInt8 = try buffer.readWireInteger()
        switch flag {
        case 0: return KeyHello(publicKey: nil)
        case 1:
            guard let key = buffer.readBytes(length: 32) else { throw .truncated }
            return KeyHello(publicKey: key)
        default: throw .invalid("encryption flag \(flag)")
        }
    }
}
