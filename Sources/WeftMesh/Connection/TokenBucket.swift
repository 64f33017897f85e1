/// Rate-limits accepted connections: `capacity` at once, then one more every `refill`
/// (Weave's accept loop uses 20 and 50 ms). Pure: the caller passes the time.
public struct TokenBucket: Sendable {
    public let capacity: Int
    public let refillNanos: UInt64
    private var tokens: Int
    private var lastRefill: UInt64

    public init(capacity: Int, refillNanos: UInt64, now: UInt64) {
        self.capacity = capacity
        self.refillNanos = refillNanos
        tokens = capacity
        lastRefill = now
    }

    /// Takes a token if one is left at `now` (nanoseconds on a monotonic clock).
    public mutating func take(now: UInt64) -> Bool {
        if now > lastRefill {
            let earned = (now - lastRefill) / refillNanos
            if earned > 0 {
                tokens = min(capacity, tokens + Int(min(earned, UInt64(capacity))))
                lastRefill += earned * refillNanos
            }
        }
        guard tokens > 0 else { return false }
        tokens -= 1
        return true
    }
}
