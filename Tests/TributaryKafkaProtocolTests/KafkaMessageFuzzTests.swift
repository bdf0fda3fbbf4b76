import Testing
import TributaryKafkaProtocol
import TributaryTestSupport
import TributaryWire

/// Hostile input: every decoder must return a message or a typed `WireDecodingError` with bounded
/// work, never trap.
@Suite("Kafka message decoders under hostile input")
struct KafkaMessageFuzzTests {
    @Test("a body cut at every offset is reported as truncated", arguments: [
        MessageType(MetadataResponse.self), MessageType(FetchResponse.self), MessageType(JoinGroupRequest.self),
        MessageType(ApiVersionsResponse.self), MessageType(OffsetFetchResponse.self), MessageType(DescribeConfigsResponse.self),
    ])
    func truncation(_ type: MessageType) throws {
        try truncateEverywhere(type.type)
    }

    private func truncateEverywhere<M: KafkaMessage>(_ type: M.Type) throws {
        let seed = UInt64.random(in: 0...UInt64.max)
        var random = SeededRandom(seed: seed)
        for version in M.supportedVersions {
            for _ in 0..<3 {
                var writer = RandomMessageWriter(random: SeededRandom(seed: random.next()), version: version, flexible: M.schema.isFlexible(version: version))
                let bytes = try writer.body(M.schema).bytes
                for cut in 0..<bytes.count {
                    var reader = ByteReader(Array(bytes.prefix(cut)))
                    do {
                        _ = try M(from: &reader, version: version)
                        Issue.record("\(M.self) v\(version) decoded from \(cut) of \(bytes.count) bytes; seed \(seed)")
                    } catch {
                        #expect(error.code == .truncated, "\(M.self) v\(version) cut at \(cut): \(error); seed \(seed)")
                        #expect(error.offset <= cut)
                    }
                }
            }
        }
    }

    @Test("random mutations and random bytes give a message or a typed error", arguments: allMessageTypes.map { MessageType($0) })
    func mutations(_ type: MessageType) throws {
        try mutate(type.type)
    }

    private func mutate<M: KafkaMessage>(_ type: M.Type) throws {
        let seed = UInt64.random(in: 0...UInt64.max)
        var random = SeededRandom(seed: seed)
        for version in M.supportedVersions {
            var writer = RandomMessageWriter(random: SeededRandom(seed: random.next()), version: version, flexible: M.schema.isFlexible(version: version))
            let bytes = try writer.body(M.schema).bytes
            for round in 0..<60 {
                var input = bytes
                if round % 10 == 9 || input.isEmpty {
                    input = (0..<Int.random(in: 0...64, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
                } else {
                    for _ in 0..<Int.random(in: 1...3, using: &random) {
                        let index = Int.random(in: 0..<input.count, using: &random)
                        switch Int.random(in: 0..<3, using: &random) {
                        case 0: input[index] = UInt8.random(in: 0...255, using: &random)
                        case 1: input[index] = [0x00, 0x7F, 0x80, 0xFF].randomElement(using: &random) ?? 0
                        default: input.insert(UInt8.random(in: 0...255, using: &random), at: index)
                        }
                    }
                }
                var reader = ByteReader(input, limits: .init(maxStringLength: 1024, maxBytesLength: 4096, maxArrayCount: 4096))
                do {
                    let message = try M(from: &reader, version: version)
                    // Whatever decodes must re-encode (a mutated value is still a valid value).
                    _ = try encoded(message, version: version)
                } catch let error as WireDecodingError {
                    #expect(error.offset >= 0 && error.offset <= input.count, "\(M.self) v\(version); seed \(seed)")
                    #expect(!error.description.isEmpty)
                } catch let error as WireEncodingError {
                    Issue.record("\(M.self) v\(version): a decoded message failed to re-encode: \(error); seed \(seed)")
                }
            }
        }
    }

    @Test("decoding an unsupported version is a typed error")
    func unsupportedVersion() {
        var reader = ByteReader([0, 0])
        #expect(throws: WireDecodingError.self) { try ProduceRequest(from: &reader, version: 2) }
        #expect(throws: WireEncodingError.unsupportedVersion("ProduceRequest", version: 12, supported: 3...11)) {
            _ = try encoded(ProduceRequest(), version: 12)
        }
        do {
            var reader = ByteReader([])
            _ = try FetchResponse(from: &reader, version: 3)
        } catch {
            #expect(error.code == .unsupportedVersion)
            #expect(error.found == "version 3")
        }
    }
}
