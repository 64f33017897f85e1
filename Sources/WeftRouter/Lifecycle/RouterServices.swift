import Glibc
import Logging
import NIOConcurrencyHelpers
import NIOCore
import WeftHTTPServer
import ServiceLifecycle
import WeftDataPath
import WeftDNS
import WeftIPAM
import WeftMesh

/// The router's long-running parts as swift-service-lifecycle services. `Router.run()` runs
/// them in one `ServiceGroup`, in this order: data path, mesh, IPAM, DNS, API, and the stop
/// request. The group starts them in that order and, on a stop (`POST /stop`, `DELETE /peer`,
/// SIGTERM, SIGINT, or any of them ending), shuts them down in the reverse order, each after
/// the one behind it has finished: the API stops taking calls first, the data path goes last.

/// The data path's threads and its once-a-second tick (heartbeats, probes, tables; and the
/// connections whose data-path keys are due for renewal renewed).
///
/// The tick runs at the start of each second of the wall clock, so on every router at about the
/// same instant (hosts' clocks agree to milliseconds): a router's heartbeats and probes from
/// its neighbours then arrive together and each receiving thread takes many in per wake-up,
/// instead of waking once per neighbour spread over the second.
struct DataPathService: Service {
    let dataPath: any DataPlane
    let mesh: Mesh
    let loop: any EventLoop

    func run() async throws {
        let next = NIOLockedValueBox<Scheduled<Void>?>(nil)
        // The next tick, at the start of the wall clock's next second; even seconds are the ones
        // on which steady paths hear from us too (decided by the second aimed at, not by reading
        // the clock again when the task runs).
        @Sendable func schedule() {
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            let everyone = (now.tv_sec + 1) % 2 == 0
            next.withLockedValue { scheduled in
                scheduled = loop.scheduleTask(in: .nanoseconds(1_000_000_000 - Int64(now.tv_nsec))) { [dataPath, mesh] in
                    dataPath.tick(everyone: everyone)
                    for peer in dataPath.dueForRenewal() { mesh.renew(peer) }
                    schedule()
                }
            }
        }
        dataPath.tick(everyone: true)
        schedule()
        await waitForGracefulShutdown()
        next.withLockedValue { $0?.cancel(); $0 = nil }
        dataPath.stop()
    }
}

/// The control plane: the listener on the control port, the dialler, gossip.
struct MeshService: Service {
    let mesh: Mesh
    let initialPeers: [String]

    func run() async throws {
        try await mesh.start(initialPeers: initialPeers)
        await waitForGracefulShutdown()
        await mesh.shutdown()
    }
}

/// IPAM's ticks (waiting requests, space requests, agreement retries); its state is written
/// once more on the way out.
struct IPAMTicks: Service {
    let ipam: IPAMService
    let logger: Logger

    func run() async throws {
        await runUntilGracefulShutdown { await ipam.run() }
        do { try ipam.persist() } catch {
            logger.error("IPAM: cannot save the ring and allocations on the way out: \(error)")
        }
    }
}

/// The embedded DNS: the server on the DNS address, the store's ticks, and at start the names
/// of the containers still attached (a restart announces them again).
struct DNSServing: Service {
    let router: Router
    let dns: DNSService

    func run() async throws {
        let server = try await router.startDNS(dns, group: router.group)
        for c in router.containers.list() { router.registerName(of: c) }
        await runUntilGracefulShutdown { await dns.run() }
        await server.stop()
    }
}

/// The local HTTP API.
struct APIService: Service {
    let router: Router

    func run() async throws {
        let c = router.configuration
        let channel: any Channel
        do {
            channel = try await HTTPServer.bind(host: c.apiHost, port: c.apiPort, group: router.group) {
                [router] head, body, port in await router.handle(APIRequest(head: head, body: body, clientPort: port))
            }
        } catch {
            throw StateError("cannot listen on \(c.apiHost):\(c.apiPort): \(error)")
        }
        router.logger.info("API on \(c.apiHost):\(c.apiPort)")
        await waitForGracefulShutdown()
        do { try await channel.close() } catch {
            // Already closed: nothing listens any more, which is what closing is for.
            router.logger.debug("API listener: \(error)")
        }
    }
}

/// Ends when a stop is requested through the API (`Router.requestStop()`), which shuts the
/// group down; ends too when the group shuts down for another reason.
struct StopRequest: Service {
    let stopped: EventLoopFuture<Void>
    let requestStop: @Sendable () -> Void

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await stopped.get()
        } onGracefulShutdown: {
            requestStop()
        }
    }
}

/// Waits until the group shuts down (or this task is cancelled).
func waitForGracefulShutdown() async {
    // Throws only when the task is cancelled, which ends the wait just the same.
    try? await gracefulShutdown()
}

/// Runs `body` until it returns or the group shuts down (then `body`'s task is cancelled).
func runUntilGracefulShutdown(_ body: @escaping @Sendable () async -> Void) async {
    await cancelWhenGracefulShutdown { await body() }
}
