
/// Failed password proofs per source address: after `limit` within `window`, connections from
/// that address are refused at accept until the oldest failure ages out. CPace gives an attacker
/// one guess per connection; this makes it a few per minute per address. Pure: times are
/// handed in (nanoseconds on a monotonic clock).
public struct GuessLimiter: Sendable {
    public static let limit = 5
    public static let window: UInt64 = 60_000_000_000
    /// At most this many addresses are remembered (the oldest are forgotten first).
    static let maxSources = 4096

    private var failures: [String: [UInt64]] = [:]

    public init() {}

    /// Notes a failed proof from `source` (an address without its port).
    public mutating func failed(_ source: String, now: UInt64) {
        var times = failures[source, default: []].filter { now < $0 &+ Self.window }
        times.append(now)
        failures[source] = Array(times.suffix(Self.limit))
        if failures.count > Self.maxSources {
            let oldest = failures.min { ($0.value.last ?? 0) < ($1.value.last ?? 0) }?.key
            if let oldest { failures[oldest] = nil }
        }
    }

    /// Whether a connection from `source` may try now.
    public func allows(_ source: String, now: UInt64) -> Bool {
        (failures[source]?.filter { now < $0 &+ Self.window }.count ?? 0) < Self.limit
    }
}
