import Testing
import TributaryKafkaProtocol
import TributaryWire

/// ApiVersions golden frames, written by hand from the protocol guide
/// (https://kafka.apache.org/protocol#The_Messages_ApiVersions): request header v1 for version 0,
/// header v2 for version 3; response header v0 for both (KIP-511).
@Suite("ApiVersions")
struct ApiVersionsTests {
    @Test("request v0: header v1 and an empty body")
    func requestV0() throws {
        try expectGolden(ApiVersionsRequest(), version: 0, "")
        var writer = ByteWriter()
        try KafkaFraming.appendRequest(ApiVersionsRequest(), version: 0, correlationID: 1, clientID: "t", to: &writer)
        #expect(writer.bytes == hexBytes("""
            0000000B  // size: 11
            0012      // api key 18
            0000      // api version 0
            00000001  // correlation id
            0001 74   // client id "t" (int16 length)
            """))
    }

    @Test("request v3: header v2 with tagged fields, compact strings in the body")
    func requestV3() throws {
        let request = ApiVersionsRequest(clientSoftwareName: "tributary", clientSoftwareVersion: "0.1")
        try expectGolden(request, version: 3, """
            0A 7472696275746172 79  // client software name: compact length 9 + 1, "tributary"
            04 302E31               // client software version: compact length 3 + 1, "0.1"
            00                      // no tagged fields
            """)
        var writer = ByteWriter()
        try KafkaFraming.appendRequest(request, version: 3, correlationID: 1, clientID: "t", to: &writer)
        #expect(writer.bytes == hexBytes("""
            0000001B  // size: 27
            0012 0003 00000001
            0001 74   // client id keeps its int16 length in header v2
            00        // header tagged fields
            0A 747269627574617279
            04 302E31
            00
            """))
    }

    static let apiKeys = [
        ApiVersionsResponse.APIVersion(apiKey: 0, minVersion: 0, maxVersion: 11),
        ApiVersionsResponse.APIVersion(apiKey: 18, minVersion: 0, maxVersion: 4),
    ]

    @Test("response v0: int32 array count, no throttle time")
    func responseV0() throws {
        try expectGolden(ApiVersionsResponse(errorCode: 0, apiKeys: Self.apiKeys), version: 0, """
            0000                // error code
            00000002            // api keys: int32 count 2
            0000 0000 000B      // Produce 0...11
            0012 0000 0004      // ApiVersions 0...4
            """)
    }

    @Test("response v3: compact arrays, throttle time, tagged features")
    func responseV3() throws {
        let response = ApiVersionsResponse(
            errorCode: 0,
            apiKeys: Self.apiKeys,
            throttleTimeMs: 0,
            supportedFeatures: [.init(name: "metadata.version", minVersion: 1, maxVersion: 20)],
            finalizedFeaturesEpoch: 5
        )
        try expectGolden(response, version: 3, """
            0000                   // error code
            03                     // api keys: compact count 2 + 1
            0000 0000 000B 00      // Produce 0...11, no tagged fields
            0012 0000 0004 00      // ApiVersions 0...4, no tagged fields
            00000000               // throttle time
            02                     // two tagged fields
            00 17                  //   tag 0 (supported features), 23 bytes:
            02                     //     compact count 1 + 1
            11 6D657461646174612E76657273696F6E  // "metadata.version"
            0001 0014 00           //     min 1, max 20, no tagged fields
            01 08                  //   tag 1 (finalized features epoch), 8 bytes:
            0000000000000005
            """)
        // ApiVersions answers with response header v0 even in flexible versions (KIP-511).
        var writer = ByteWriter()
        try KafkaFraming.appendResponse(response, version: 3, correlationID: 7, to: &writer)
        let body = try encoded(response, version: 3)
        #expect(writer.bytes == int32Bytes(4 + body.count) + hexBytes("00000007  // correlation id, no header tagged fields") + body)
        var reader = ByteReader(Array(writer.bytes.dropFirst(4)))
        let (header, decodedBody) = try KafkaFraming.decodeResponse(ApiVersionsResponse.self, version: 3, from: &reader)
        #expect(header == KafkaResponseHeader(correlationID: 7))
        #expect(decodedBody == response)
    }
}

/// The KIP-511 fallback: an old broker answers a too-new ApiVersions request with a version 0 body.
@Suite("ApiVersions version fallback")
struct ApiVersionsFallbackTests {
    @Test("a version 0 error body is decoded even when version 3 was requested")
    func fallsBackToVersion0() throws {
        let body = hexBytes("""
            0023                // UNSUPPORTED_VERSION
            00000001            // api keys: 1
            0012 0000 0002      // ApiVersions 0...2
            """)
        var reader = ByteReader(body)
        let (response, decodedVersion) = try ApiVersionsResponse.decodeFallingBack(from: &reader, version: 3)
        #expect(decodedVersion == 0)
        #expect(KafkaErrorCode(rawValue: response.errorCode) == .unsupportedVersion)
        #expect(response.apiKeys == [.init(apiKey: 18, minVersion: 0, maxVersion: 2)])
        #expect(reader.isAtEnd)
    }

    @Test("a normal version 3 body decodes at version 3; garbage still fails")
    func normalAndBroken() throws {
        let response = ApiVersionsResponse(apiKeys: [.init(apiKey: 18, minVersion: 0, maxVersion: 4)])
        var reader = ByteReader(try encoded(response, version: 3))
        let result = try ApiVersionsResponse.decodeFallingBack(from: &reader, version: 3)
        #expect(result.decodedVersion == 3 && result.response == response)
        var garbage = ByteReader([0xFF])
        #expect(throws: WireDecodingError.self) { _ = try ApiVersionsResponse.decodeFallingBack(from: &garbage, version: 3) }
        #expect(garbage.offset == 0, "the reader is not moved when decoding fails")
    }
}
