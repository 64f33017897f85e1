/// One attached container, as `GET /ps` gives it in JSON (with `Accept: application/json`;
/// the text form is one line per container: `ID MAC CIDR...`).
public struct ContainerRecord: Codable, Equatable, Sendable {
    public var id: String
    /// The namespace as given to attach: a name under /run/netns, a path, or a PID.
    public var netns: String
    public var hostname: String?
    public var mac: String
    public var cidrs: [String]

    public init(id: String, netns: String, hostname: String? = nil, mac: String, cidrs: [String]) {
        self.id = id
        self.netns = netns
        self.hostname = hostname
        self.mac = mac
        self.cidrs = cidrs
    }
}

/// The body of a failed call when the client asked for JSON (`Accept: application/json`);
/// otherwise a failure is its `message` as one line of text.
public struct APIErrorBody: Codable, Equatable, Sendable {
    /// The one line a user can act on.
    public var message: String
    /// The HTTP status, repeated for clients that only see the body.
    public var status: Int

    public init(message: String, status: Int) {
        self.message = message
        self.status = status
    }
}
