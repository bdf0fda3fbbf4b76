import FuzzSupport
import TributaryKafkaProtocol
import TributaryWire

// Every generated Kafka response decoder, chosen by the input's first bytes. A body that
// decodes and encodes again at the same version must read back and encode to the same bytes.
//
// Input: [API selector][version selector][response body...]. The version selector picks a
// supported version, or (for the last value) one past the newest, which must be refused.

/// The response types, in the order the API selector picks them (the selector is taken modulo
/// the count, so the table can grow without breaking saved inputs more than necessary).
let responseTypes: [any KafkaResponseMessage.Type] = [
    ProduceResponse.self, FetchResponse.self, ListOffsetsResponse.self, MetadataResponse.self,
    OffsetCommitResponse.self, OffsetFetchResponse.self, FindCoordinatorResponse.self, JoinGroupResponse.self,
    HeartbeatResponse.self, LeaveGroupResponse.self, SyncGroupResponse.self, DescribeGroupsResponse.self,
    ListGroupsResponse.self, SaslHandshakeResponse.self, ApiVersionsResponse.self, CreateTopicsResponse.self,
    DeleteTopicsResponse.self, DescribeConfigsResponse.self, SaslAuthenticateResponse.self,
    CreatePartitionsResponse.self, DeleteGroupsResponse.self,
]

func version<Response: KafkaResponseMessage>(of type: Response.Type, selector: UInt8) -> Int16 {
    let versions = Response.supportedVersions
    let choices = versions.count + 1
    return versions.lowerBound + Int16(Int(selector) % choices)
}

func check<Response: KafkaResponseMessage>(_ type: Response.Type, version: Int16, body: [UInt8]) {
    // The body alone, as the client decodes it after the header.
    var reader = ByteReader(body)
    let decoded: Response
    do {
        decoded = try Response(from: &reader, version: version)
        try reader.expectEnd("\(Response.self) v\(version)")
    } catch {
        return
    }
    fuzzCheck(Response.supportedVersions.contains(version), "\(Response.self) decoded at unsupported version \(version)")
    // The encoder may refuse a decoded value with its typed error (it checks what the decoder
    // lets through, such as a tag repeated in the unknown tagged fields). What it encodes must
    // decode, and encode again to the same bytes: the first encoding may normalise (tagged
    // fields are written in ascending tag order), the second must change nothing.
    var writer = ByteWriter()
    guard (try? decoded.encode(into: &writer, version: version)) != nil else { return }
    var again = ByteReader(writer.bytes)
    guard let redecoded = try? Response(from: &again, version: version) else {
        fuzzCheck(false, "\(Response.self) v\(version): the encoding of \(decoded) does not decode")
        return
    }
    var rewriter = ByteWriter()
    try? redecoded.encode(into: &rewriter, version: version)
    fuzzCheck(rewriter.bytes == writer.bytes, "\(Response.self) v\(version) changes in decode → encode → decode → encode: \(decoded) became \(redecoded)")
}

func checkFrame<Response: KafkaResponseMessage>(_ type: Response.Type, version: Int16, frame: [UInt8]) {
    // The same bytes as a whole frame (header and body), through the framing entry point.
    var reader = ByteReader(frame)
    _ = try? KafkaFraming.decodeResponse(Response.self, version: version, from: &reader)
}

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    writeSeedsIfAsked {
        // Every response at every supported version with its fields at their defaults.
        func seeds<Response: KafkaResponseMessage>(_ type: Response.Type, index: Int) -> [[UInt8]] {
            Response.supportedVersions.compactMap { version in
                var writer = ByteWriter()
                guard (try? Response().encode(into: &writer, version: version)) != nil else { return nil }
                return [UInt8(index), UInt8(version - Response.supportedVersions.lowerBound)] + writer.bytes
            }
        }
        var all: [[UInt8]] = []
        for (index, type) in responseTypes.enumerated() {
            all += seeds(type, index: index)
        }
        return all
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var input = FuzzInput(fuzzBytes(data, size))
    let type = responseTypes[Int(input.byte()) % responseTypes.count]
    let selector = input.byte()
    let body = input.rest
    func run<Response: KafkaResponseMessage>(_ type: Response.Type) {
        let version = version(of: type, selector: selector)
        check(type, version: version, body: body)
        checkFrame(type, version: version, frame: body)
    }
    run(type)
    return 0
}
