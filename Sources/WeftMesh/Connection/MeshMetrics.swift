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

    /// A channel's message and byte counters one way, looked up by the channel's name alone
    /// (every gossip message counts, so no key is built per message).
    private struct Gossip { let messages: Counter, bytes: Counter }
    private static let gossip = Mutex<[String: (sent: Gossip, received: Gossip)]>([:])

    private static func count(_ message: MeshMessage, bytes: Int, sent: Bool) {
        guard let channel = message.channel else { return }
        let both = gossip.withLock { cache in
            if let known = cache[channel] { return known }
            func make(_ direction: String) -> Gossip {
                let dimensions = [("channel", channel), ("direction", direction)]
                return Gossip(messages: counter("weft_gossip_messages_total", dimensions),
                              bytes: counter("weft_gossip_bytes_total", dimensions))
            }
            let made = (sent: make("sent"), received: make("received"))
            cache[channel] = made
            return made
        }
        let counters = sent ? both.sent : both.received
        counters.messages.increment()
        counters.bytes.increment(by: bytes)
    }

    static func sent(_ message: MeshMessage, bytes: Int) { count(message, bytes: bytes, sent: true) }

    static func received(_ message: MeshMessage, bytes: Int) { count(message, bytes: bytes, sent: false) }

    static func handshakeFailed(_ failure: HandshakeFailure) {
        counter("weft_handshake_failures_total", [("reason", failure.label)]).increment()
    }

    static func rejected(_ what: String) {
        counter("weft_gossip_rejected_total", [("channel", what)]).increment()
    }
}
