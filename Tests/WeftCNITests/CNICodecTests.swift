import Foundation
import Testing
import WeftAPI
@testable import WeftCNI

@Suite("CNI codecs")
struct CNICodecTests {
    /// CNI_ARGS pairs are read as podman writes them; a pair without `=` is an error.
    @Test func argsParse() throws {
        let args = try CNIArgs("IgnoreUnknown=1;K8S_POD_NAME=web;IP=10.32.0.9;MAC=02:00:00:00:00:01")
        #expect(args.podName == "web")
        #expect(args.ip == "10.32.0.9")
        #expect(args.mac == "02:00:00:00:00:01")
        #expect(throws: CNIError.self) { try CNIArgs("IgnoreUnknown=1;garbage") }
        #expect(try CNIArgs(nil).values.isEmpty)
    }

    /// A conflist entry with runtimeConfig and prevResult decodes; bad JSON and unknown versions
    /// get the spec's codes.
    @Test func configDecodes() throws {
        let text = """
        {"cniVersion":"1.0.0","name":"weft","type":"weft","ipam":{"type":"weft","subnet":"10.32.5.0/24"},
         "runtimeConfig":{"aliases":{"weft":["db","3f2a"]}},
         "prevResult":{"cniVersion":"1.0.0","interfaces":[{"name":"vethwepl1"},{"name":"eth0","mac":"02:00:00:00:00:01","sandbox":"/run/netns/x"}],
                       "ips":[{"address":"10.32.5.2/24","interface":1}]},
         "cni.dev/valid-attachments":[{"containerID":"abc","ifname":"eth0"}]}
        """
        let config = try NetworkConfig.decode(Array(text.utf8))
        #expect(config.ipam?.subnet == "10.32.5.0/24")
        #expect(config.runtimeConfig?.aliases?["weft"] == ["db", "3f2a"])
        #expect(config.validAttachments?.first?.containerID == "abc")
        #expect(CNIPlugin.containerAddresses(try #require(config.prevResult), ifname: "eth0") == ["10.32.5.2/24"])
        #expect(CNIPlugin.containerAddresses(try #require(config.prevResult), ifname: "eth1").isEmpty)

        #expect(code("{") == 6)
        #expect(code(#"{"cniVersion":"9.9.9","name":"n","type":"weft"}"#) == 1)
        #expect(code(#"{"cniVersion":"1.0.0","name":"","type":"weft"}"#) == 7)
    }

    /// Before 1.0.0 every ips entry says "version": "4"; from 1.0.0 on it does not.
    @Test func resultVersions() throws {
        let record = ContainerRecord(id: "c:eth0", netns: "/run/netns/x", mac: "02:00:00:00:00:01", cidrs: ["10.32.0.2/12"],
                                     interface: "eth0", hostLink: "vethwepl1234567", gateway: "10.32.0.1",
                                     dns: .init(nameserver: "169.254.53.53", domain: "weft.local"))
        let result = CNIPlugin.result(of: record, ifname: "eth0", netns: "/run/netns/x")
        let legacy = try json(result.converted(to: "0.4.0").encoded())
        let current = try json(result.converted(to: "1.0.0").encoded())
        let legacyIP = try #require((legacy["ips"] as? [[String: Any]])?.first)
        let currentIP = try #require((current["ips"] as? [[String: Any]])?.first)
        #expect(legacyIP["version"] as? String == "4")
        #expect(currentIP["version"] == nil)
        #expect(currentIP["interface"] as? Int == 1)
        #expect(current["cniVersion"] as? String == "1.0.0")
        #expect((current["dns"] as? [String: Any])?["nameservers"] as? [String] == ["169.254.53.53"])
        #expect((current["routes"] as? [[String: Any]])?.first?["gw"] as? String == "10.32.0.1")
        let interfaces = try #require(current["interfaces"] as? [[String: Any]])
        #expect(interfaces[1]["sandbox"] as? String == "/run/netns/x")
    }

    private func code(_ text: String) -> Int? {
        do { _ = try NetworkConfig.decode(Array(text.utf8)); return nil } catch { return error.code }
    }

    private func json(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }
}

@Suite("CNI plugin commands")
struct CNIPluginTests {
    /// A port nothing listens on: the router is "not running".
    let plugin = CNIPlugin(api: APIClient(port: 1))
    let config = Array(#"{"cniVersion":"1.0.0","name":"weft","type":"weft","ipam":{"type":"weft"}}"#.utf8)
    let env = ["CNI_CONTAINERID": "abc", "CNI_NETNS": "/run/netns/none", "CNI_IFNAME": "eth0", "CNI_ARGS": "K8S_POD_NAME=web"]

    private func error(_ output: [UInt8]) throws -> CNIError { try JSONDecoder().decode(CNIError.self, from: Data(output)) }

    /// VERSION lists the spoken versions in the version asked for.
    @Test func version() throws {
        let (out, ok) = plugin.run(environment: ["CNI_COMMAND": "VERSION"], stdin: Array(#"{"cniVersion":"0.4.0"}"#.utf8))
        #expect(ok)
        let answer = try #require(try JSONSerialization.jsonObject(with: Data(out)) as? [String: Any])
        #expect(answer["cniVersion"] as? String == "0.4.0")
        #expect(answer["supportedVersions"] as? [String] == CNIVersion.supported)
    }

    /// ADD with no router answers an error object a user can act on; DEL then succeeds.
    @Test func noRouter() throws {
        var e = env
        e["CNI_COMMAND"] = "ADD"
        let (out, ok) = plugin.run(environment: e, stdin: config)
        #expect(!ok)
        let failure = try error(out)
        #expect(failure.code == 11)
        #expect(failure.msg.contains("run weft launch"))
        e["CNI_COMMAND"] = "DEL"
        let (delOut, delOK) = plugin.run(environment: e, stdin: config)
        #expect(delOK)
        #expect(delOut.isEmpty)
        e["CNI_COMMAND"] = "STATUS"
        #expect(try error(plugin.run(environment: e, stdin: config).output).code == 50)
    }

    /// Missing variables, unknown commands and foreign types are refused with the spec's codes.
    @Test func badRequests() throws {
        #expect(try error(plugin.run(environment: [:], stdin: config).output).code == 4)
        #expect(try error(plugin.run(environment: ["CNI_COMMAND": "FLY"], stdin: config).output).code == 4)
        var e = env
        e["CNI_COMMAND"] = "ADD"
        e["CNI_NETNS"] = nil
        #expect(try error(plugin.run(environment: e, stdin: config).output).code == 4)
        e = env
        e["CNI_COMMAND"] = "ADD"
        e["CNI_IFNAME"] = "a/b"
        #expect(try error(plugin.run(environment: e, stdin: config).output).code == 4)
        e = env
        e["CNI_COMMAND"] = "ADD"
        let foreign = Array(#"{"cniVersion":"1.0.0","name":"n","type":"bridge","ipam":{"type":"host-local"}}"#.utf8)
        #expect(try error(plugin.run(environment: e, stdin: foreign).output).code == 7)
        let otherIPAM = Array(#"{"cniVersion":"1.0.0","name":"n","type":"weft","ipam":{"type":"host-local"}}"#.utf8)
        #expect(try error(plugin.run(environment: e, stdin: otherIPAM).output).code == 7)
        e["CNI_COMMAND"] = "CHECK"
        let failure = try error(plugin.run(environment: e, stdin: config).output)
        #expect(failure.code == 7)
        #expect(failure.cniVersion == "1.0.0")
    }
}
