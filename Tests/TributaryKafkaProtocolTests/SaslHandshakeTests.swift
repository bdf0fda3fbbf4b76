import Testing
import TributaryKafkaProtocol
import TributaryWire

/// SaslHandshake golden bodies at the one supported version (1). The bytes were encoded by
/// kafka-python 3.0.12 (`kafka.protocol.sasl.SaslHandshakeRequest` / `Response`) with
/// Tests/Fixtures/kafka-golden/make_golden.py, not by Tributary.
@Suite("SaslHandshake")
struct SaslHandshakeTests {
    @Test("request and response v1: the mechanism asked for, the mechanisms enabled")
    func version1() throws {
        // make_golden.py: SaslHandshakeRequest v1
        try expectGolden(SaslHandshakeRequest(mechanism: "SCRAM-SHA-256"), version: 1, """
            000D 5343 5241 4D2D 5348 412D 3235 36   // mechanism "SCRAM-SHA-256"
            """)
        // make_golden.py: SaslHandshakeResponse v1
        try expectGolden(SaslHandshakeResponse(errorCode: 33, mechanisms: ["PLAIN", "SCRAM-SHA-512"]), version: 1, """
            0021                                    // error 33: unsupported SASL mechanism
            00000002                                // two mechanisms
            0005 504C41494E                         // "PLAIN"
            000D 5343 5241 4D2D 5348 412D 3531 32   // "SCRAM-SHA-512"
            """)
    }

    @Test("version 0 is refused: its tokens travel outside Kafka's framing")
    func version0IsRefused() {
        var writer = ByteWriter()
        #expect(throws: WireEncodingError.self) { try SaslHandshakeRequest(mechanism: "PLAIN").encode(into: &writer, version: 0) }
        #expect(writer.bytes.isEmpty)
        #expect(KafkaAPIKey.saslHandshake.supportedVersions == 1...1)
    }
}
