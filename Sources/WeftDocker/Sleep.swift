#if canImport(Glibc)
import Glibc
#endif

/// Sleeps this thread (a background thread of the plugin, never an event loop).
func usleepSeconds(_ seconds: Double) { usleep(UInt32(seconds * 1_000_000)) }
