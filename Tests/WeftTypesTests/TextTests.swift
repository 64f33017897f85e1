import Testing
import WeftTypes

@Suite struct TextTests {
    /// White space goes from both ends only.
    @Test func trimmed() {
        #expect("  a b \n".trimmed == "a b")
        #expect("\t\n".trimmed == "")
        #expect("x"[...].trimmed == "x")
    }

    /// Two lower-case hex digits a byte.
    @Test func hex() {
        #expect([0x00, 0x0f, 0xa0, 0xff].hex == "000fa0ff")
        #expect([UInt8]().hex == "")
    }
}
