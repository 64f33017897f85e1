#if canImport(Glibc)
import Glibc
#endif

/// Threads of our own (POSIX threads, not the Swift concurrency pool's or an event loop's):
/// for loops that block on a socket, and for work that enters another namespace. What
/// Foundation's `Thread` gave, without linking Foundation.
public enum OwnThread {
    private final class Body {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }

    private static func start(_ body: @escaping () -> Void, detached: Bool) throws(SystemError) -> pthread_t {
        let box = Unmanaged.passRetained(Body(body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { argument in
            Unmanaged<Body>.fromOpaque(argument!).takeRetainedValue().run()
            return nil
        }, box)
        guard rc == 0 else {
            Unmanaged<Body>.fromOpaque(box).release()
            throw SystemError("pthread_create", errno: rc)
        }
        if detached { pthread_detach(thread) }
        return thread
    }

    /// Runs `body` on a new thread that ends with it; nobody waits for it.
    public static func detach(_ body: @escaping @Sendable () -> Void) throws(SystemError) {
        _ = try start(body, detached: true)
    }

    /// Runs `body` on a new thread of its own and waits for it: a thread that may change its
    /// namespace (`setns`), since it is used for nothing else and ends.
    public static func run<T>(_ body: @escaping () -> T) throws(SystemError) -> T {
        var result: T? = nil
        try withUnsafeMutablePointer(to: &result) { pointer throws(SystemError) in
            // The pointer outlives the thread: pthread_join returns only after it ended.
            nonisolated(unsafe) let slot = pointer
            let thread = try start({ slot.pointee = body() }, detached: false)
            pthread_join(thread, nil)
        }
        return result!
    }
}
