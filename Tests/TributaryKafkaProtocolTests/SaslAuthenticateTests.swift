import Testing
import TributaryKafkaProtocol
import TributaryWire

/// SaslAuthenticate golden bodies at versions 0, 1 and 2. The bytes were encoded by kafka-python
/// 3.0.12 (`kafka.protocol.sasl.SaslAuthenticateRequest` / `Response`) with
/// Tests/Fixtures/kafka-golden/make_golden.py, not by Tributary.
@Suite("SaslAuthenticate")
struct SaslAuthenticateTests {
    @Test("request and response v0: int32-length bytes, a nullable error message")
    func version0() throws {
        // make_golden.py: SaslAuthenticateRequest v0
        try expectGolden(SaslAuthenticateRequest(authBytes: Array("\0alice\0pw".utf8)), version: 0, """
            00000009 00 616C696365 00 7077          // auth bytes "\\0alice\\0pw"
            """)
        // make_golden.py: SaslAuthenticateResponse v0
        try expectGolden(SaslAuthenticateResponse(errorCode: 58, errorMessage: "bad credentials", authBytes: []), version: 0, """
            003A                                    // error 58: SASL authentication failed
            000F 626164 20 63726564656E7469616C73   // error message "bad credentials"
            00000000                                // no auth bytes
            """)
    }

    @Test("response v1: the session lifetime (KIP-368)")
    func version1() throws {
        // make_golden.py: SaslAuthenticateResponse v1
        try expectGolden(SaslAuthenticateResponse(errorCode: 0, errorMessage: nil, authBytes: Array("v=xyz".utf8), sessionLifetimeMs: 3_600_000), version: 1, """
            0000                                    // no error
            FFFF                                    // error message null
            00000005 763D78797A                     // auth bytes "v=xyz"
            00000000 0036EE80                       // session lifetime 3,600,000 ms
            """)
    }

    @Test("request and response v2: compact bytes and tagged-field sections")
    func version2() throws {
        // make_golden.py: SaslAuthenticateRequest v2
        try expectGolden(SaslAuthenticateRequest(authBytes: Array("n,,n=alice,r=abc".utf8)), version: 2, """
            11 6E2C2C6E3D616C6963652C723D616263     // auth bytes: compact length 16 + 1, "n,,n=alice,r=abc"
            00                                      // no tagged fields
            """)
        // make_golden.py: SaslAuthenticateResponse v2
        try expectGolden(SaslAuthenticateResponse(errorCode: 0, errorMessage: nil, authBytes: Array("v=xyz".utf8), sessionLifetimeMs: 3_600_000), version: 2, """
            0000                                    // no error
            00                                      // error message null (compact)
            06 763D78797A                           // auth bytes: compact length 5 + 1, "v=xyz"
            00000000 0036EE80                       // session lifetime 3,600,000 ms
            00                                      // no tagged fields
            """)
    }

    @Test("the session lifetime is dropped below version 1, as the field is ignorable")
    func lifetimeIgnoredAtVersion0() throws {
        var writer = ByteWriter()
        try SaslAuthenticateResponse(errorCode: 0, authBytes: [], sessionLifetimeMs: 5000).encode(into: &writer, version: 0)
        #expect(writer.bytes == hexBytes("0000 FFFF 00000000"))
    }
}
