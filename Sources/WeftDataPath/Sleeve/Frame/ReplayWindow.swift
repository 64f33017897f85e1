/// Which counters of one sender's datagrams have been seen: a sliding window of 1024 behind the
/// highest. A counter seen before, or too old to tell, is a replay (or a datagram so late it is
/// safer to drop). Only authenticated counters may be recorded, or a forger could move the window.
public struct ReplayWindow: Sendable {
    public static let size: UInt64 = 1024
    private var highest: UInt64 = 0
    private var bits = [UInt64](repeating: 0, count: Int(size / 64))
    private var any = false

    public init() {}

    /// True when `counter` may be accepted (not seen, not too old). Does not record it.
    public func check(_ counter: UInt64) -> Bool {
        guard any else { return true }
        if counter > highest { return true }
        if highest - counter >= Self.size { return false }
        return !isSet(counter)
    }

    /// Records an authenticated `counter`; returns false (recording nothing) for a replay.
    public mutating func accept(_ counter: UInt64) -> Bool {
        guard check(counter) else { return false }
        if !any {
            any = true
            highest = counter
        } else if counter > highest {
            let shift = counter - highest
            if shift >= Self.size {
                for i in bits.indices { bits[i] = 0 }
            } else {
                // A range, not `c += 1` up to the counter: that would trap at UInt64.max.
                for c in (highest + 1)...counter { clear(c) }
            }
            highest = counter
        }
        set(counter)
        return true
    }

    private func isSet(_ c: UInt64) -> Bool { bits[Int(c / 64 % (Self.size / 64))] & (1 << (c % 64)) != 0 }
    private mutating func set(_ c: UInt64) { bits[Int(c / 64 % (Self.size / 64))] |= 1 << (c % 64) }
    private mutating func clear(_ c: UInt64) { bits[Int(c / 64 % (Self.size / 64))] &= ~(1 << (c % 64)) }
}
