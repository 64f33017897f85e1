import Metrics
import Synchronization

/// The mesh's Prometheus series, through swift-metrics (the daemon picks the backend).
enum MeshMetrics {
    /// Counters by label set, made once: the metrics factory is looked up only the first time.
    private static let counters = Mutex<[String: Counter]>([:])

    private static func counter(_ label: String, _ dimensions: [(String, String)]) -> Counter {
        let key = label + dimensions.map { "|\($0.0)=\($0.1)" }.joined()
        return counters.withLock { cache in
            if let c = cache[key] { return c }
            let c = Counter(label: label, dimensions: dimensions)
            cache[key] = c
            return c
        }
    }

    static func sent(_ message: MeshMessage, bytes: Int) {
        guard let channel = message.channel else { return }
        counter("weft_gossip_messages_total", [("channel", channel), ("direction", "sent")]).increment()
        counter("weft_gossip_bytes_total", [("channel", channel), ("direction", "sent")]).increment(by: bytes)
    }

    static func received(_ message: MeshMessage, bytes: Int) {
        guard let channel = message.channel else { return }
        counter("weft_gossip_messages_total", [("channel", channel), ("direction", "received")]).increment()
        counter("weft_gossip_bytes_total", [("channel", channel), ("direction", "received")]).increment(by: bytes)
    }

    static func handshakeFailed(_ failure: HandshakeFailure) {
        counter("weft_handshake_failures_total", [("reason", failure.label)]).increment()
    }

    static func rejected(_ what: String) {
        counter("weft_gossip_rejected_total", [("channel", what)]).increment()
    }
}
