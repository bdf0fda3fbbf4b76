import Testing
import TributaryKafkaProtocol
import TributaryWire

/// Request header v0/v1/v2 and response header v0/v1, and the choice of version per API.
@Suite("Kafka headers and framing")
struct KafkaHeaderTests {
    @Test("header versions follow flexible versions; ApiVersions responses always use header v0")
    func headerVersions() {
        #expect(KafkaAPIKey.metadata.requestHeaderVersion(for: 8) == 1)
        #expect(KafkaAPIKey.metadata.requestHeaderVersion(for: 9) == 2)
        #expect(KafkaAPIKey.metadata.responseHeaderVersion(for: 8) == 0)
        #expect(KafkaAPIKey.metadata.responseHeaderVersion(for: 9) == 1)
        #expect(KafkaAPIKey.apiVersions.requestHeaderVersion(for: 2) == 1)
        #expect(KafkaAPIKey.apiVersions.requestHeaderVersion(for: 3) == 2)
        #expect(KafkaAPIKey.apiVersions.responseHeaderVersion(for: 3) == 0)
        #expect(KafkaAPIKey.apiVersions.responseHeaderVersion(for: 4) == 0)
        #expect(KafkaAPIKey.produce.responseHeaderVersion(for: 9) == 1)
        #expect(KafkaAPIKey.fetch.firstFlexibleVersion == 12)
        #expect(KafkaAPIKey.produce.supportedVersions == 3...11)
        #expect(KafkaAPIKey.fetch.supportedVersions == 4...17)
        #expect(KafkaAPIKey.produce.deprecatedVersions == 0...6)
        #expect(KafkaAPIKey(rawValue: 18) == .apiVersions)
        #expect(KafkaAPIKey.apiVersions.description == "ApiVersions(18)")
        #expect(KafkaAPIKey.allCases.count == 26)
    }

    @Test("request header bytes for versions 0, 1 and 2")
    func requestHeader() throws {
        let header = KafkaRequestHeader(apiKey: 3, apiVersion: 12, correlationID: 0x0102_0304, clientID: "cli")
        let expected: [Int16: String] = [
            0: "0003 000C 01020304",
            1: "0003 000C 01020304 0003 636C69",
            2: "0003 000C 01020304 0003 636C69 00",
        ]
        for (version, hex) in expected {
            var writer = ByteWriter()
            try header.encode(into: &writer, headerVersion: version)
            #expect(writer.bytes == hexBytes(hex), "header v\(version)")
            var reader = ByteReader(writer.bytes)
            let decoded = try KafkaRequestHeader(from: &reader, headerVersion: version)
            #expect(decoded == (version == 0 ? KafkaRequestHeader(apiKey: 3, apiVersion: 12, correlationID: 0x0102_0304) : header))
            #expect(reader.isAtEnd)
        }
        var nullClient = ByteWriter()
        try KafkaRequestHeader(apiKey: 18, apiVersion: 0, correlationID: 1, clientID: nil).encode(into: &nullClient, headerVersion: 1)
        #expect(nullClient.bytes == hexBytes("0012 0000 00000001 FFFF"))
        var invalid = ByteWriter()
        #expect(throws: WireEncodingError.self) { try header.encode(into: &invalid, headerVersion: 3) }
        #expect(invalid.bytes.isEmpty)
    }

    @Test("a broker reads the header version from the API key and version")
    func brokerSideDecoding() throws {
        var writer = ByteWriter()
        let request = MetadataRequest(topics: [.init(name: "orders")])
        try KafkaFraming.appendRequest(request, version: 12, correlationID: 9, clientID: "cli", to: &writer)
        var reader = ByteReader(writer.bytes, range: 4..<writer.count)
        let header = try KafkaRequestHeader(from: &reader)
        #expect(header.api == .metadata)
        #expect(header.apiVersion == 12)
        #expect(header.correlationID == 9)
        #expect(header.clientID == "cli")
        let body = try KafkaFraming.decodeRequestBody(MetadataRequest.self, header: header, from: &reader)
        #expect(body == request)

        var wrongAPI = ByteReader(writer.bytes, range: 4..<writer.count)
        let metadataHeader = try KafkaRequestHeader(from: &wrongAPI)
        #expect(throws: WireDecodingError.self) { _ = try KafkaFraming.decodeRequestBody(ProduceRequest.self, header: metadataHeader, from: &wrongAPI) }

        // An API Tributary does not implement (DeleteRecords, 21) is read with header v1.
        var unknown = ByteReader(hexBytes("0015 0001 00000005 0002 6964 AB"))
        let unknownHeader = try KafkaRequestHeader(from: &unknown)
        #expect(unknownHeader.api == nil && unknownHeader.clientID == "id" && unknown.remainingCount == 1)
    }

    @Test("response frames: header v1 in flexible versions, trailing bytes rejected")
    func responseFrames() throws {
        let response = HeartbeatResponse(throttleTimeMs: 0, errorCode: 27)
        var writer = ByteWriter()
        try KafkaFraming.appendResponse(response, version: 4, correlationID: 5, to: &writer)
        #expect(writer.bytes == hexBytes("""
            0000000C   // size 12
            00000005   // correlation id
            00         // response header v1 tagged fields
            00000000   // throttle time
            001B       // REBALANCE_IN_PROGRESS
            00         // no tagged fields
            """))
        var reader = ByteReader(writer.bytes, range: 4..<writer.count)
        let (header, body) = try KafkaFraming.decodeResponse(HeartbeatResponse.self, version: 4, from: &reader)
        #expect(header.correlationID == 5)
        #expect(body == response)
        #expect(KafkaErrorCode(rawValue: body.errorCode) == .rebalanceInProgress)

        var trailing = ByteReader(Array(writer.bytes.dropFirst(4)) + [0])
        #expect(throws: WireDecodingError.self) { _ = try KafkaFraming.decodeResponse(HeartbeatResponse.self, version: 4, from: &trailing) }
        var failed = ByteWriter(bytes: [7])
        #expect(throws: WireEncodingError.self) { try KafkaFraming.appendResponse(response, version: 9, correlationID: 5, to: &failed) }
        #expect(failed.bytes == [7], "nothing appended when encoding fails")
    }
}
