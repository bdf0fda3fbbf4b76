import Foundation
import Testing
import TributaryGenKit

/// The `nats.jetstream` family: the committed spec, its rendering, and validation of broken specs.
@Suite("JetStream API spec and renderer")
struct JetStreamAPISpecTests {
    static let generated = "Sources/TributaryJetStream/Generated"

    @Test("the committed spec produces the three JetStream files, all committed")
    func producesJetStreamFiles() throws {
        let generator = Generator(specsRoot: try GeneratorTestSupport.specsRoot())
        let files = try generator.render()
        let names = files.keys.filter { $0.hasPrefix(Self.generated + "/") }.sorted()
        #expect(names == [
            "\(Self.generated)/JetStreamAPIErrorCode.swift",
            "\(Self.generated)/JetStreamAPISubject.swift",
            "\(Self.generated)/JetStreamAPITypes.swift",
        ])
        #expect(generator.ownedDirectories.contains(Self.generated))
        let committed = try GeneratorTestSupport.generatedDirectoryContents(under: GeneratorTestSupport.packageRoot())
        for name in names {
            #expect(committed[name] == files[name].map { Data($0.utf8) }, "\(name) is stale or missing; run `swift run tributary-gen`")
        }
    }

    @Test("the spec records the server version and every error code and subject once")
    func specFacts() throws {
        let json = try GeneratorTestSupport.foundationJSON("nats/jetstream-api.json")
        let source = try #require(json["source"] as? [String: Any])
        #expect(source["version"] as? String == "v2.15.1")
        let errors = try #require(json["errors"] as? [[String: Any]])
        let codes = errors.compactMap { $0["errCode"] as? Int }
        #expect(codes.count == errors.count && Set(codes).count == codes.count)
        // The codes clients act on are present with the server's numbers.
        let byName = Dictionary(uniqueKeysWithValues: errors.map { ($0["name"] as? String ?? "", $0["errCode"] as? Int ?? 0) })
        #expect(byName["streamNotFound"] == 10059)
        #expect(byName["consumerNotFound"] == 10014)
        #expect(byName["streamWrongLastSequence"] == 10071)
        #expect(byName["streamWrongLastMsgID"] == 10070)
        #expect(byName["streamNotMatch"] == 10060)
        let expectations = errors.filter { $0["expectationFailed"] as? Bool == true }.compactMap { $0["name"] as? String }.sorted()
        #expect(expectations == ["streamNotMatch", "streamWrongLastMsgID", "streamWrongLastSequence", "streamWrongLastSequenceConstant"])
        let subjects = try #require(json["subjects"] as? [[String: Any]])
        let templates = subjects.compactMap { $0["template"] as? String }
        #expect(Set(templates).count == subjects.count)
        #expect(templates.contains("CONSUMER.CREATE.{stream}.{consumer}.{filter}"))
    }

    @Test("durations, byte fields and extensible enums render through the coding helpers")
    func renderedShapes() throws {
        let files = try Generator(specsRoot: try GeneratorTestSupport.specsRoot()).render()
        let types = try #require(files["\(Self.generated)/JetStreamAPITypes.swift"])
        #expect(types.contains("public var maxAge: Duration?"))
        #expect(types.contains("maxAge = try container.decodeNanosecondsIfPresent(forKey: .maxAge)"))
        #expect(types.contains("backoff = try container.decodeNanosecondArrayIfPresent(forKey: .backoff)"))
        #expect(types.contains("data = try container.decodeBase64IfPresent(forKey: .data)"))
        #expect(types.contains("public struct RetentionPolicy: RawRepresentable, Codable, Hashable, Sendable, CustomStringConvertible"))
        #expect(types.contains("public static let workQueue = RetentionPolicy(rawValue: \"workqueue\")"))
        #expect(types.contains("case maxMsgsPerSubject = \"max_msgs_per_subject\""))
        let subjects = try #require(files["\(Self.generated)/JetStreamAPISubject.swift"])
        #expect(subjects.contains("public static func consumerCreateFiltered(stream: String, consumer: String, filter: String) -> String {\n        \"CONSUMER.CREATE.\\(stream).\\(consumer).\\(filter)\""))
        let errors = try #require(files["\(Self.generated)/JetStreamAPIErrorCode.swift"])
        #expect(errors.contains("public static let streamNotFound = JetStreamAPIErrorCode(rawValue: 10059)"))
    }

    @Test("broken specs are rejected naming the key", arguments: [
        (#""type": "duration""#, #""type": "nanos""#, "unknown type \"nanos\""),
        (#""template": "STREAM.INFO.{stream}""#, #""template": "STREAM.info.{stream}""#, "must be uppercase letters"),
        (#""response": "StreamInfo""#, #""response": "StreamInformation""#, "is not a type declared"),
        (#""errCode": 10059"#, #""errCode": 10014"#, "duplicate err_code"),
        (#""name": "RetentionPolicy""#, #""name": "retentionPolicy""#, "is not UpperCamelCase"),
    ])
    func brokenSpec(old: String, new: String, message: String) throws {
        let specs = try GeneratorTestSupport.makeTemporaryDirectory()
        defer { GeneratorTestSupport.removeTemporaryDirectory(specs) }
        try FileManager.default.copyItem(at: GeneratorTestSupport.specsRoot(), to: specs.appendingPathComponent("copy"))
        let file = specs.appendingPathComponent("copy/nats/jetstream-api.json")
        let text = try String(contentsOf: file, encoding: .utf8)
        let range = try #require(text.range(of: old), "the committed spec lacks \(old)")
        try Data(text.replacingCharacters(in: range, with: new).utf8).write(to: file)
        let error = #expect(throws: SpecError.self) { try Generator(specsRoot: specs.appendingPathComponent("copy")).render() }
        #expect(error?.file == "nats/jetstream-api.json")
        #expect(error?.message.contains(message) == true, "message was: \(error?.message ?? "nil")")
    }
}
