import Glibc
import Testing
import WeftOptions
import WeftTypes

@Suite struct RouterOptionsTests {
    static func settings(_ arguments: [String]) throws -> RouterSettings {
        try RouterOptions.parse(arguments).settings(environment: [:])
    }

    /// The defaults parse into the documented settings.
    @Test func defaults() throws {
        let s = try Self.settings([])
        #expect(s.ipamRange == Subnet("10.32.0.0/12"))
        #expect(s.ipamMode == .consensus(peers: 1))
        #expect(s.mtu == 1376 && s.port == 6783 && s.connLimit == 200 && s.discovery && s.fastdp)
        #expect(s.dns?.domain == DNSName("weft.local."))
        #expect(s.trustedSubnets.isEmpty)
        #expect(s.stateDirectory == "/var/lib/weft")
    }

    /// Every flag arrives typed.
    @Test func typedFlags() throws {
        let s = try Self.settings(["--name", "02:00:00:00:00:01", "--ipalloc-range", "", "--no-dns", "--no-fastdp",
                                   "--trusted-subnets", "198.18.0.0/24, 198.19.0.0/16", "--dns-domain", "Mesh.Example.",
                                   "--log-level", "debug", "198.18.0.1", "198.18.0.2"])
        #expect(s.name == PeerName("02:00:00:00:00:01"))
        #expect(s.ipamRange == nil && s.dns == nil && !s.fastdp)
        #expect(s.trustedSubnets == [Subnet("198.18.0.0/24")!, Subnet("198.19.0.0/16")!])
        #expect(s.logLevel == .debug)
        #expect(s.ipamMode == .consensus(peers: 3))
        #expect(s.peers == ["198.18.0.1", "198.18.0.2"])
        #expect(try Self.settings(["--dns-domain", "Mesh.Example."]).dns?.domain.description == "mesh.example.")
    }

    /// A bad flag is refused with a line that names it.
    @Test(arguments: [
        (["--name", "nope"], "--name"), (["--mtu", "100"], "--mtu"), (["--ipalloc-range", "10.32.0.1/12"], "--ipalloc-range"),
        (["--trusted-subnets", "198.18.0.0/24,x"], "--trusted-subnets"), (["--ipalloc-init", "seed=zz"], "--ipalloc-init"),
        (["--log-level", "loud"], "--log-level"), (["--dns-domain", "."], "--dns-domain"),
    ])
    func refused(_ arguments: [String], _ flag: String) {
        #expect(throws: (any Error).self) { try RouterOptions.parse(arguments) }
        do { _ = try RouterOptions.parse(arguments) } catch {
            #expect(RouterOptions.message(for: error).contains(flag))
        }
    }
}

@Suite struct PasswordFileTests {
    /// A password file others can read gets a warning; one only its owner can read does not.
    @Test func readableByOthersWarns() throws {
        let path = "/tmp/weft-password-test-\(getpid())"
        defer { unlink(path) }
        _ = "secret\n".withCString { s in
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            defer { close(fd) }
            return write(fd, s, strlen(s))
        }
        var warnings: [String] = []
        let options = try RouterOptions.parse(["--password-file", path])
        chmod(path, 0o644)
        #expect(try options.resolvedPassword(environment: [:], readFile: { _ in "secret\n" }, warn: { warnings.append($0) }) == "secret")
        #expect(warnings.count == 1 && warnings[0].contains("chmod 600"))
        chmod(path, 0o600)
        warnings = []
        _ = try options.resolvedPassword(environment: [:], readFile: { _ in "secret\n" }, warn: { warnings.append($0) })
        #expect(warnings.isEmpty)
    }
}
