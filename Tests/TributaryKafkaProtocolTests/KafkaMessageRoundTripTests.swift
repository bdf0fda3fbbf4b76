import Testing
import TributaryKafkaProtocol
import TributaryTestSupport
import TributaryWire

/// Every generated message at every supported version: random valid bodies (written from the
/// schema, independently of the generated encoders) decode to the values written, with fields the
/// version lacks left at their defaults; re-encode to the same bytes; and decode again to an
/// equal value.
@Suite("Kafka messages round-trip at every supported version")
struct KafkaMessageRoundTripTests {
    static let iterationsPerVersion = 40

    @Test("every API has a request and a response type in the list, with matching schemas")
    func listIsComplete() {
        var seen: [KafkaAPIKey: (request: Bool, response: Bool)] = [:]
        for type in allMessageTypes {
            let schema = type.schema
            #expect(schema.apiKey == type.apiKey.rawValue)
            #expect(schema.supportedVersions == type.supportedVersions)
            #expect(type.supportedVersions == type.apiKey.supportedVersions)
            #expect(schema.flexibleVersions?.lowest == type.apiKey.firstFlexibleVersion)
            var entry = seen[type.apiKey] ?? (false, false)
            if schema.isRequest { entry.request = true } else { entry.response = true }
            seen[type.apiKey] = entry
        }
        for key in KafkaAPIKey.allCases {
            #expect(seen[key]?.request == true && seen[key]?.response == true, "\(key) lacks a request or response")
        }
    }

    @Test("random bodies round-trip byte for byte", arguments: allMessageTypes.map { MessageType($0) })
    func randomRoundTrip(_ type: MessageType) throws {
        try roundTrip(type.type)
    }

    private func roundTrip<M: KafkaMessage>(_ type: M.Type) throws {
        let seed = UInt64.random(in: 0...UInt64.max)
        var random = SeededRandom(seed: seed)
        for version in M.supportedVersions {
            for iteration in 0..<Self.iterationsPerVersion {
                var writer = RandomMessageWriter(random: SeededRandom(seed: random.next()), version: version, flexible: M.schema.isFlexible(version: version))
                let (bytes, expected) = try writer.body(M.schema)
                let context = "\(M.self) v\(version) iteration \(iteration), seed \(seed), bytes \(hexString(bytes))"
                let message: M
                do {
                    message = try decoded(M.self, bytes, version: version)
                } catch {
                    Issue.record("decoding failed: \(error); \(context)")
                    return
                }
                let reencoded = try encoded(message, version: version)
                #expect(reencoded == bytes, "re-encoding differs; \(context)")
                let again = try decoded(M.self, reencoded, version: version)
                #expect(again == message, "decode(encode(x)) != x; \(context)")
                // Every field holds the value written, fields the version lacks (and tagged fields not
                // sent) hold their defaults, and only truly unknown tags land in unknownTaggedFields.
                let actual = fieldValues(of: message, fields: M.schema.fields, flexible: M.schema.isFlexible(version: version))
                #expect(actual == expected, "decoded values differ:\n  got      \(actual)\n  expected \(expected)\n  \(context)")
            }
        }
    }

    @Test("a default-constructed message encodes and decodes at every supported version", arguments: allMessageTypes.map { MessageType($0) })
    func defaults(_ type: MessageType) throws {
        try defaultRoundTrip(type.type)
    }

    private func defaultRoundTrip<M: KafkaMessage>(_ type: M.Type) throws {
        let message = M()
        for version in M.supportedVersions {
            // Some defaults are not expressible at old versions (for example MetadataRequest's
            // null topic list before version 1); those must fail with a typed error.
            let bytes: [UInt8]
            do {
                bytes = try encoded(message, version: version)
            } catch let error as WireEncodingError {
                #expect(error.code == .nullNotAllowed || error.code == .fieldNotSupported, "\(M.self) v\(version): \(error)")
                continue
            }
            #expect(try decoded(M.self, bytes, version: version) == message, "\(M.self) v\(version)")
        }
    }
}

/// A message type as a test argument.
struct MessageType: CustomTestStringConvertible, Sendable {
    let type: any KafkaMessage.Type
    init(_ type: any KafkaMessage.Type) { self.type = type }
    var testDescription: String { "\(type)" }
}

