import Testing

import WeftTypes

@Suite struct PeerNameTests {
    /// Names print like MAC addresses and parse back.
    @Test func roundTrip() {
        let name = PeerName(rawValue: 0x0a0b_0c0d_0e0f)
        #expect(name.description == "0a:0b:0c:0d:0e:0f")
        #expect(PeerName("0a:0b:0c:0d:0e:0f") == name)
        #expect(PeerName("A:B:C:D:E:F") == name)
    }

    /// `::` stands for the zero groups it replaces.
    @Test func abbreviations() {
        #expect(PeerName("::1") == PeerName(rawValue: 1))
        #expect(PeerName("12::") == PeerName(rawValue: 0x1200_0000_0000))
        #expect(PeerName("12::34") == PeerName(rawValue: 0x1200_0000_0034))
    }

    /// Anything else is refused.
    @Test(arguments: ["", ":", "1:2:3:4:5", "1:2:3:4:5:6:7", "zz:00:00:00:00:00", "123:0:0:0:0:0", "1::2::3", "1:2:3:4:5:6::"])
    func invalid(_ text: String) {
        #expect(PeerName(text) == nil)
    }

    /// Random names are locally administered unicast addresses.
    @Test func randomNames() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<100 {
            let n = PeerName.random(using: &rng)
            #expect(n.rawValue & 0x0200_0000_0000 != 0)
            #expect(n.rawValue & 0x0100_0000_0000 == 0)
            #expect(n.rawValue <= 0xFFFF_FFFF_FFFF)
        }
    }
}

@Suite struct MACTests {
    /// MACs parse in the six-group form and print back with two digits per group.
    @Test func parsing() {
        #expect(MAC("2:0:0:0:0:a1")?.description == "02:00:00:00:00:a1")
        #expect(MAC("02:00:00:00:00:a1") == MAC(rawValue: 0x0200_0000_00a1))
        #expect(MAC("02:00:00:00:00") == nil)
        #expect(MAC("02:00:00:00:00:a1:0") == nil)
        #expect(MAC("::1") == nil)
        #expect(MAC("02:00:00:00:00:zz") == nil)
    }
}
