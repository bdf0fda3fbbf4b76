import Foundation
import Testing
import TributaryGenKit

/// Broken Kafka specs are rejected with an error naming the file and key.
@Suite("Kafka spec validation")
struct KafkaSpecValidationTests {
    static let message = KafkaMiniSpecs.messagePath
    static let errors = KafkaMiniSpecs.errorsPath

    static let brokenSpecs: [BrokenSpec] = [
        BrokenSpec(name: "supported versions outside upstream", file: message,
                   old: #""versions": "0-2","#, new: #""versions": "0-4","#,
                   key: "versions", message: "must lie within upstreamVersions"),
        BrokenSpec(name: "open supported range", file: message,
                   old: #""versions": "0-2","#, new: #""versions": "0+","#,
                   key: "versions", message: "closed range"),
        BrokenSpec(name: "closed flexible versions", file: message,
                   old: #""flexibleVersions": "2+""#, new: #""flexibleVersions": "2-3""#,
                   key: "flexibleVersions", message: "open-ended"),
        BrokenSpec(name: "malformed version range", file: message,
                   old: #""name": "TimeoutMs", "type": "int32", "versions": "1+""#, new: #""name": "TimeoutMs", "type": "int32", "versions": "1-""#,
                   key: "request.fields[1].versions", message: "is not a version range"),
        BrokenSpec(name: "field in no supported version", file: message,
                   old: #""name": "TimeoutMs", "type": "int32", "versions": "1+""#, new: #""name": "TimeoutMs", "type": "int32", "versions": "3+""#,
                   key: "request.fields[1].versions", message: "do not overlap the supported versions"),
        BrokenSpec(name: "nested field outside its struct's versions", file: message,
                   old: #""type": "[]Item", "versions": "0+""#, new: #""type": "[]Item", "versions": "1+""#,
                   key: "request.fields[2].fields[0].versions", message: "within the enclosing struct's versions"),
        BrokenSpec(name: "nullable outside versions", file: message,
                   old: #""versions": "1+", "nullableVersions": "2+""#, new: #""versions": "1+", "nullableVersions": "0+""#,
                   key: "request.fields[2].fields[1].nullableVersions", message: "must lie within the field's versions"),
        BrokenSpec(name: "nullable int", file: message,
                   old: #""name": "ItemId", "type": "int32", "versions": "0+""#, new: #""name": "ItemId", "type": "int32", "versions": "0+", "nullableVersions": "0+""#,
                   key: "request.fields[2].fields[0].nullableVersions", message: "cannot be null"),
        BrokenSpec(name: "tagged outside flexible versions", file: message,
                   old: #""tag": 0, "taggedVersions": "2+""#, new: #""tag": 0, "taggedVersions": "1+""#,
                   key: "request.fields[3].taggedVersions", message: "within the flexible versions"),
        BrokenSpec(name: "duplicate tag in a struct", file: message,
                   old: #""tag": 1, "taggedVersions": "2+""#, new: #""tag": 0, "taggedVersions": "2+""#,
                   key: "request.fields[4].tag", message: "duplicate tag \"0\""),
        BrokenSpec(name: "tag without taggedVersions", file: message,
                   old: #""tag": 0, "taggedVersions": "2+","#, new: #""tag": 0,"#,
                   key: "request.fields[3].taggedVersions", message: "missing required key"),
        BrokenSpec(name: "request without response", file: message,
                   old: #""response": {"#, new: #""responses": {"#,
                   key: "responses", message: "unknown key"),
        BrokenSpec(name: "file named after another API", file: message,
                   old: #""name": "Tiny""#, new: #""name": "Small""#,
                   key: "name", message: "must be named 007-Small.json"),
        BrokenSpec(name: "default null on a non-nullable field", file: message,
                   old: #""default": -1, "ignorable": true"#, new: #""default": null, "ignorable": true"#,
                   key: "request.fields[1].default", message: "default null needs nullableVersions"),
        BrokenSpec(name: "default out of range", file: message,
                   old: #""default": -1, "ignorable": true"#, new: #""default": 3000000000, "ignorable": true"#,
                   key: "request.fields[1].default", message: "does not fit int32"),
        BrokenSpec(name: "unknown type", file: message,
                   old: #""name": "ErrorCode", "type": "int16""#, new: #""name": "ErrorCode", "type": "int128""#,
                   key: "response.fields[0].type", message: "unknown type"),
        BrokenSpec(name: "struct without fields", file: message,
                   old: #""name": "ErrorCode", "type": "int16""#, new: #""name": "ErrorCode", "type": "Code""#,
                   key: "response.fields[0].type", message: "needs \"fields\""),
        BrokenSpec(name: "duplicate field name", file: message,
                   old: #""name": "TimeoutMs""#, new: #""name": "groupId""#,
                   key: "request.fields[1].name", message: "duplicate field name"),
        BrokenSpec(name: "field becoming a Swift keyword", file: message,
                   old: #""name": "TimeoutMs""#, new: #""name": "Default""#,
                   key: "request.fields[1].name", message: "add a \"swiftName\""),
        BrokenSpec(name: "upstream files of another API", file: message,
                   old: #""TinyRequest.json""#, new: #""SmallRequest.json""#,
                   key: "upstreamFiles", message: "upstream files of this API"),
        BrokenSpec(name: "duplicate error code", file: errors,
                   old: #""code": 25"#, new: #""code": 0"#,
                   key: "errors[2].code", message: "duplicate error code"),
        BrokenSpec(name: "error codes out of order", file: errors,
                   old: #""code": -1"#, new: #""code": 30"#,
                   key: "errors[1].code", message: "ascending order"),
        BrokenSpec(name: "error name not upper snake case", file: errors,
                   old: #""name": "UNKNOWN_MEMBER_ID""#, new: #""name": "UnknownMemberId""#,
                   key: "errors[2].name", message: "is not an error name"),
        BrokenSpec(name: "error name clashing with a member", file: errors,
                   old: #""name": "NONE", "swiftName": "noError","#, new: #""name": "NONE","#,
                   key: "errors[1].name", message: "clashes with a member"),
        BrokenSpec(name: "missing retriable flag", file: errors,
                   old: #""code": 25, "name": "UNKNOWN_MEMBER_ID", "retriable": false,"#, new: #""code": 25, "name": "UNKNOWN_MEMBER_ID","#,
                   key: "errors[2].retriable", message: "missing required key"),
    ]

    @Test("a broken Kafka spec is rejected with an error naming its file and key", arguments: brokenSpecs)
    func brokenSpecIsRejected(_ broken: BrokenSpec) throws {
        let specs = try GeneratorTestSupport.makeTemporaryDirectory()
        defer { GeneratorTestSupport.removeTemporaryDirectory(specs) }
        try KafkaMiniSpecs.write(under: specs, changing: broken.file, replacing: broken.old, with: broken.new)

        let error = #expect(throws: SpecError.self) { try Generator(specsRoot: specs).render() }
        #expect(error?.file == broken.file)
        #expect(error?.key == broken.key)
        #expect(error?.message.contains(broken.message) == true, "message was: \(error?.message ?? "nil")")
        #expect(error?.line != nil, "the error should name a line")
    }

    @Test("the unmodified Kafka mini specs are valid")
    func miniSpecsAreValid() throws {
        let specs = try GeneratorTestSupport.makeTemporaryDirectory()
        defer { GeneratorTestSupport.removeTemporaryDirectory(specs) }
        try KafkaMiniSpecs.write(under: specs)
        let files = try Generator(specsRoot: specs).render()
        #expect(files.keys.filter { $0.hasPrefix("Sources/TributaryKafkaProtocol/") }.sorted() == [
            "Sources/TributaryKafkaProtocol/Generated/KafkaAPIKey.swift",
            "Sources/TributaryKafkaProtocol/Generated/KafkaErrorCode.swift",
            "Sources/TributaryKafkaProtocol/Generated/Tiny.swift",
        ])
    }

    @Test("two specs for one API key are rejected")
    func duplicateAPIKey() throws {
        let specs = try GeneratorTestSupport.makeTemporaryDirectory()
        defer { GeneratorTestSupport.removeTemporaryDirectory(specs) }
        try KafkaMiniSpecs.write(under: specs)
        let other = KafkaMiniSpecs.messageSpec
            .replacingOccurrences(of: #""name": "Tiny""#, with: #""name": "Tinier""#)
            .replacingOccurrences(of: "TinyRequest.json", with: "TinierRequest.json")
            .replacingOccurrences(of: "TinyResponse.json", with: "TinierResponse.json")
        try GeneratorTestSupport.write(other, to: "kafka/messages/007-Tinier.json", under: specs)
        let error = #expect(throws: SpecError.self) { try Generator(specsRoot: specs).render() }
        #expect(error?.key == "apiKey")
        #expect(error?.message.contains("also defined") == true)
    }

    @Test("version ranges parse only in the spec syntax")
    func versionRangeSyntax() {
        #expect(KafkaSpecVersionRange.parse("3+") == KafkaSpecVersionRange(lowest: 3, highest: nil))
        #expect(KafkaSpecVersionRange.parse("0-4") == KafkaSpecVersionRange(lowest: 0, highest: 4))
        #expect(KafkaSpecVersionRange.parse("7") == KafkaSpecVersionRange(lowest: 7, highest: 7))
        for bad in ["", "none", "4-0", "01", "-1", "1-", "+", "3++", "a", "1-2-3", "99999"] {
            #expect(KafkaSpecVersionRange.parse(bad) == nil, "\(bad)")
        }
        let open = KafkaSpecVersionRange(lowest: 3, highest: nil)
        #expect(open.intersection(KafkaSpecVersionRange(lowest: 0, highest: 4)) == KafkaSpecVersionRange(lowest: 3, highest: 4))
        #expect(open.intersection(KafkaSpecVersionRange(lowest: 0, highest: 2)) == nil)
        #expect(KafkaSpecVersionRange(lowest: 3, highest: 4).isSubset(of: open))
        #expect(open.description == "3+")
    }

    @Test("Kafka names become Swift names with acronyms fixed", arguments: [
        ("MemberId", "memberID"), ("GroupInstanceId", "groupInstanceID"), ("ThrottleTimeMs", "throttleTimeMs"),
        ("TopicId", "topicID"), ("BrokerIds", "brokerIDs"), ("ZkMigrationReady", "zkMigrationReady"),
        ("timeoutMs", "timeoutMs"), ("IsrNodes", "isrNodes"), ("ApiKeys", "apiKeys"), ("GenerationIdOrMemberEpoch", "generationIDOrMemberEpoch"),
    ])
    func propertyNames(kafka: String, swift: String) {
        #expect(KafkaNaming.propertyName(kafka) == swift)
    }

    @Test("struct and error names follow the same rules")
    func typeAndErrorNames() {
        #expect(KafkaNaming.typeName("LeaderIdAndEpoch") == "LeaderIDAndEpoch")
        #expect(KafkaNaming.typeName("ApiVersion") == "APIVersion")
        #expect(KafkaNaming.typeName("SnapshotId") == "SnapshotID")
        #expect(KafkaNaming.errorName("UNKNOWN_MEMBER_ID") == "unknownMemberID")
        #expect(KafkaNaming.errorName("UNSUPPORTED_SASL_MECHANISM") == "unsupportedSASLMechanism")
        #expect(KafkaNaming.errorName("INVALID_TXN_STATE") == "invalidTxnState")
    }
}
