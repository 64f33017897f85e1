public import NIOCore
public import WeftMesh
import WeftTypes

/// The `dns` gossip channel's message: a list of records. Each record is its origin (6 bytes),
/// version (8), flags (1: bit 0 tombstone), address (4), container ID (16-bit length string)
/// and hostname (8-bit length, uncompressed DNS wire form).
public enum DNSGossip {
    static let maxEntries = 1 << 20
    static let maxContainerID = 256
    /// Messages are cut at about this size (the mesh's limit is larger).
    static let messageSize = 60 * 1024

    public static func encode(_ entries: some Collection<DNSEntry>) -> [ByteBuffer] {
        var messages: [ByteBuffer] = []
        var current: [DNSEntry] = []
        var size = 0
        func flush() {
            guard !current.isEmpty else { return }
            var b = ByteBuffer()
            b.writeInteger(UInt32(current.count), endianness: .big)
            for e in current {
                b.writePeerName(e.origin)
                b.writeInteger(e.version, endianness: .big)
                b.writeInteger(UInt8(e.tombstone ? 1 : 0))
                b.writeInteger(e.address, endianness: .big)
                b.writeWireString(e.containerID)
                b.writeInteger(UInt8(e.hostname.wire.count))
                b.writeBytes(e.hostname.wire)
            }
            messages.append(b)
            current.removeAll()
            size = 0
        }
        for e in entries {
            current.append(e)
            size += 22 + e.containerID.utf8.count + e.hostname.wire.count
            if size >= messageSize { flush() }
        }
        flush()
        return messages
    }

    /// Decodes one message; throws on anything malformed (nothing of it is used then).
    public static func decode(_ payload: ByteBuffer) throws(WireError) -> [DNSEntry] {
        var b = payload
        let count = try b.readWireCount(field: "DNS records", limit: maxEntries, minElementSize: 22)
        var entries: [DNSEntry] = []
        entries.reserveCapacity(count)
        for _ in 0..<count {
            let origin = try b.readPeerName()
            let version = try b.readWireVersion(field: "DNS record version")
            let flags = try b.readWireInteger(as: UInt8.self)
            guard flags <= 1 else { throw .invalid("DNS record flags \(flags)") }
            let address = try b.readWireInteger(as: UInt32.self)
            let id = try b.readWireString(field: "container ID", limit: maxContainerID)
            let length = Int(try b.readWireInteger(as: UInt8.self))
            guard let wire = b.readBytes(length: length) else { throw .truncated }
            guard let name = DNSName(validatingWire: wire) else { throw .invalid("hostname") }
            entries.append(DNSEntry(hostname: name, address: address, containerID: id, origin: origin,
                                    version: version, tombstone: flags == 1))
        }
        guard b.readableBytes == 0 else { throw .invalid("bytes after the DNS records") }
        return entries
    }
}
