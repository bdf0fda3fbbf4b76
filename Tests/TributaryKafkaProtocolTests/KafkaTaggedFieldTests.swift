import Testing
import TributaryKafkaProtocol
import TributaryWire

/// Tagged fields (KIP-482): known ones decode into properties, unknown ones survive a round trip,
/// and none are written in non-flexible versions.
@Suite("Tagged fields")
struct KafkaTaggedFieldTests {
    @Test("unknown tags are kept, merged in tag order with known ones, and written back")
    func unknownPreserved() throws {
        let body = hexBytes("""
            0000 01 00000000   // error code, no api keys, throttle time
            03                 // three tagged fields
            01 08 0000000000000009  // tag 1: finalized features epoch 9
            05 02 ABCD              // tag 5: unknown
            2A 00                   // tag 42: unknown, empty
            """)
        let response = try decoded(ApiVersionsResponse.self, body, version: 3)
        #expect(response.finalizedFeaturesEpoch == 9)
        #expect(response.unknownTaggedFields == [WireTaggedField(tag: 5, bytes: [0xAB, 0xCD]), WireTaggedField(tag: 42, bytes: [])])
        #expect(try encoded(response, version: 3) == body)
    }

    @Test("tags arriving out of order are accepted and written back sorted")
    func outOfOrder() throws {
        let body = hexBytes("0000 01 00000000  02  05 00  01 08 0000000000000009")
        let response = try decoded(ApiVersionsResponse.self, body, version: 3)
        #expect(response.finalizedFeaturesEpoch == 9)
        #expect(try encoded(response, version: 3) == hexBytes("0000 01 00000000  02  01 08 0000000000000009  05 00"))
    }

    @Test("a known tag whose size does not match its value is rejected")
    func wrongSize() {
        let body = hexBytes("0000 01 00000000  01  01 09 0000000000000009 FF")
        #expect(throws: WireDecodingError.self) { _ = try decoded(ApiVersionsResponse.self, body, version: 3) }
    }

    @Test("an unknown tag equal to a known one is a duplicate on encoding")
    func duplicateTag() {
        var response = ApiVersionsResponse(finalizedFeaturesEpoch: 3)
        response.unknownTaggedFields = [WireTaggedField(tag: 1, bytes: [])]
        #expect(throws: WireEncodingError.self) { _ = try encoded(response, version: 3) }
    }

    @Test("tagged and unknown fields are not written in non-flexible versions")
    func nonFlexible() throws {
        var response = ApiVersionsResponse(errorCode: 0, apiKeys: [], throttleTimeMs: 1, finalizedFeaturesEpoch: 3)
        response.unknownTaggedFields = [WireTaggedField(tag: 9, bytes: [1])]
        #expect(try encoded(response, version: 2) == hexBytes("0000 00000000 00000001"))
    }
}
