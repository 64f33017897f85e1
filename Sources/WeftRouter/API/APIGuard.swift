import FoundationEssentials
import Glibc
import WeftSystem

/// Who may call the local API (docs/api.md, docs/security.md): programs on this host, not web
/// pages in its browsers, and only root for calls that change the router.
///
/// - A request with `Origin` or a browser's fetch-metadata headers (`Sec-Fetch-*`) is refused:
///   the CLI, curl and scripts send neither, and every browser sends them, so a page cannot
///   drive the router (no `<form>` POST to `/connect`, `/stop`, `/expose`, `/attach`).
/// - A `Host` other than the API's own address or `localhost` is refused (a DNS-rebinding name
///   resolving to 127.0.0.1 cannot read `/report`). HTTP/1.0 clients without `Host` pass.
/// - A call other than `GET` must come from a socket owned by root (uid 0), as the kernel's
///   table of this namespace's TCP sockets (/proc/net/tcp) says for the client's end; reading
///   (`GET`: status, report, metrics) stays open to every local user, as `weave status` is.
enum APIGuard {
    /// The answer refusing `request`, or nil when it may go on. `owner` gives the uid owning the
    /// client's end of the connection (nil: unknown).
    static func refusal(for request: APIRequest, apiHost: String, apiPort: Int,
                        owner: (_ clientPort: Int) -> UInt32?) -> APIResponse? {
        if request.fromBrowser {
            return .error("refused: a browser's request (Origin or Sec-Fetch headers); the API is for programs on this host",
                          .forbidden)
        }
        if let host = request.host, !allowedHosts(apiHost: apiHost, apiPort: apiPort).contains(host.lowercased()) {
            return .error("refused: Host '\(host)' is not this API's address", .forbidden)
        }
        guard request.method != .GET, request.method != .HEAD else { return nil }
        guard let port = request.clientPort, let uid = owner(port) else {
            return .error("refused: cannot tell which user is calling; changing calls need root", .forbidden)
        }
        guard uid == 0 else { return .error("refused: only root may change the router (the caller is uid \(uid))", .forbidden) }
        return nil
    }

    static func allowedHosts(apiHost: String, apiPort: Int) -> Set<String> {
        [apiHost, "\(apiHost):\(apiPort)", "localhost", "localhost:\(apiPort)"]
    }

    /// The uid owning the TCP socket of this namespace whose local end is 127.0.0.1:`clientPort`
    /// and whose remote end is port `serverPort` (the client's end of an API connection), from
    /// /proc/net/tcp; nil when there is none.
    static func loopbackOwner(clientPort: Int, serverPort: Int, table: String? = nil) -> UInt32? {
        // Read fresh on every changing call: the table is small on a host's loopback.
        guard let text = table ?? readProcFile("/proc/net/tcp") else { return nil }
        let local = "0100007F:" + hex(clientPort), remote = ":" + hex(serverPort)
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 7, fields[1] == local, fields[2].hasSuffix(remote) else { continue }
            return UInt32(fields[7])
        }
        return nil
    }

    /// A port as /proc/net/tcp writes it: four upper-case hex digits.
    static func hex(_ port: Int) -> String {
        let digits = String(port, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
