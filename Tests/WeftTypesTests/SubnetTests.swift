import Testing


import WeftTypes

@Suite struct SubnetTests {
    /// CIDRs parse only as networks, and print back the same.
    @Test func parsing() {
        #expect(Subnet("10.32.0.0/12")?.description == "10.32.0.0/12")
        #expect(Subnet("10.32.0.0/12")?.size == 1 << 20)
        #expect(Subnet("10.32.0.1/12") == nil)
        #expect(Subnet("10.32.0.0") == nil)
        #expect(Subnet("10.32.0.0/33") == nil)
        #expect(Subnet("10.32.0.256/24") == nil)
        #expect(Subnet("255.255.255.0/24") == nil)  // its end would not fit
        #expect(IPv4.parse("01.2.3.4") != nil && IPv4.parse("1.2.3") == nil && IPv4.parse("1.2.3.4.5") == nil)
    }

    /// A container never gets a subnet's network or broadcast address.
    @Test func usableAddresses() throws {
        let s = try #require(Subnet("10.40.0.0/24"))
        #expect(s.usable.from == s.start + 1 && s.usable.to == s.end - 1)
        #expect(s.cidr(s.start + 5) == "10.40.0.5/24")
    }
}
