import Synchronization

/// The sleeve's counts, kept as atomics on the packet path and read for /metrics.
public final class SleeveCounters: Sendable {
    /// Why a frame or datagram was dropped.
    public enum Drop: Int, CaseIterable, Sendable {
        case malformed, unknownSender, unsealed, forged, replayed, noRoute, tooBig, hopLimit
        /// Unsealed, claiming a neighbour's name but not from its underlay address and port.
        case spoofedSource
        /// Unsealed and not for this router: never relayed (onwards it would travel sealed, as if
        /// authenticated).
        case unsealedRelay

        public var label: String {
            switch self {
            case .malformed: "malformed"
            case .unknownSender: "unknown_sender"
            case .unsealed: "unsealed"
            case .forged: "forged"
            case .replayed: "replayed"
            case .noRoute: "no_route"
            case .tooBig: "too_big"
            case .hopLimit: "hop_limit"
            case .spoofedSource: "spoofed_source"
            case .unsealedRelay: "unsealed_relay"
            }
        }
    }

    let framesSent = Atomic<Int>(0)
    let framesReceived = Atomic<Int>(0)
    let framesRelayed = Atomic<Int>(0)
    let datagramsSent = Atomic<Int>(0)
    let datagramsReceived = Atomic<Int>(0)
    let fragmentationNeeded = Atomic<Int>(0)
    /// TCP super-frames (longer than the overlay MTU) carried whole, from the capture and into
    /// the bridge.
    let superFramesSent = Atomic<Int>(0)
    let superFramesReceived = Atomic<Int>(0)
    /// Frames the kernel could not put in the capture ring (it was full), as libpcap counts.
    let captureDropped = Atomic<Int>(0)
    /// Drops are rare (a bad datagram, no route): a lock is fine there.
    private let drops = Mutex([Int](repeating: 0, count: Drop.allCases.count))

    @inline(__always)
    func drop(_ reason: Drop) { drops.withLock { $0[reason.rawValue] += 1 } }

    /// Current values, for /metrics.
    public var snapshot: [(name: String, labels: [(String, String)], value: Int)] {
        var out: [(String, [(String, String)], Int)] = [
            ("weft_sleeve_frames_total", [("direction", "sent")], framesSent.load(ordering: .relaxed)),
            ("weft_sleeve_frames_total", [("direction", "received")], framesReceived.load(ordering: .relaxed)),
            ("weft_sleeve_frames_total", [("direction", "relayed")], framesRelayed.load(ordering: .relaxed)),
            ("weft_sleeve_datagrams_total", [("direction", "sent")], datagramsSent.load(ordering: .relaxed)),
            ("weft_sleeve_datagrams_total", [("direction", "received")], datagramsReceived.load(ordering: .relaxed)),
            ("weft_sleeve_fragmentation_needed_total", [], fragmentationNeeded.load(ordering: .relaxed)),
            ("weft_sleeve_superframes_total", [("direction", "sent")], superFramesSent.load(ordering: .relaxed)),
            ("weft_sleeve_superframes_total", [("direction", "received")], superFramesReceived.load(ordering: .relaxed)),
            ("weft_sleeve_capture_dropped_total", [], captureDropped.load(ordering: .relaxed)),
        ]
        let dropped = drops.withLock { $0 }
        for d in Drop.allCases { out.append(("weft_sleeve_dropped_total", [("reason", d.label)], dropped[d.rawValue])) }
        return out
    }
}
