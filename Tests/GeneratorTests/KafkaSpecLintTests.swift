import Foundation
import Testing
import TributaryGenKit

/// Lints the committed Kafka specs with Foundation's JSON parser and rules written out here,
/// independently of TributaryGenKit's validator: version ranges, flexible versions, tags,
/// request/response pairing and the error-code table.
@Suite("Kafka spec lint")
struct KafkaSpecLintTests {
    /// The APIs the Kafka client needs: key → name.
    static let requiredAPIs: [Int: String] = [
        0: "Produce", 1: "Fetch", 2: "ListOffsets", 3: "Metadata", 8: "OffsetCommit", 9: "OffsetFetch",
        10: "FindCoordinator", 11: "JoinGroup", 12: "Heartbeat", 13: "LeaveGroup", 14: "SyncGroup",
        15: "DescribeGroups", 16: "ListGroups", 17: "SaslHandshake", 18: "ApiVersions", 19: "CreateTopics", 20: "DeleteTopics",
        22: "InitProducerId", 24: "AddPartitionsToTxn", 25: "AddOffsetsToTxn", 26: "EndTxn", 28: "TxnOffsetCommit",
        32: "DescribeConfigs", 36: "SaslAuthenticate", 37: "CreatePartitions", 42: "DeleteGroups",
    ]

    /// A version range: lowest and highest (Int16.max when open-ended).
    struct Range: Equatable {
        let low: Int
        let high: Int
        func contains(_ other: Range) -> Bool { other.low >= low && other.high <= high }
        func overlaps(_ other: Range) -> Bool { max(low, other.low) <= min(high, other.high) }
    }

    /// Parses `3`, `0-4`, `3+`; nil for `none`; throws for anything else.
    static func range(_ text: String?, _ context: String) throws -> Range? {
        guard let text else { throw GeneratorTestSupport.SetupError(description: "\(context): missing version range") }
        if text == "none" { return nil }
        let digits = { (part: Substring) -> Int? in
            part.isEmpty || !part.allSatisfy(\.isNumber) || (part.count > 1 && part.first == "0") ? nil : Int(part)
        }
        if text.hasSuffix("+"), let low = digits(text.dropLast()) { return Range(low: low, high: Int(Int16.max)) }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        if parts.count == 1, let value = digits(parts[0]) { return Range(low: value, high: value) }
        if parts.count == 2, let low = digits(parts[0]), let high = digits(parts[1]), low <= high { return Range(low: low, high: high) }
        throw GeneratorTestSupport.SetupError(description: "\(context): \"\(text)\" is not a version range")
    }

    static func messageSpecs() throws -> [(path: String, json: [String: Any])] {
        let directory = try GeneratorTestSupport.specsRoot().appendingPathComponent("kafka/messages")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".json") }.sorted()
        return try names.map { name in ("kafka/messages/\(name)", try GeneratorTestSupport.foundationJSON("kafka/messages/\(name)")) }
    }

    /// Calls `body` for every struct (request, response and nested) with its fields and versions.
    static func forEachStruct(_ fields: [[String: Any]], versions: Range, path: String, _ body: ([[String: Any]], Range, String) throws -> Void) throws {
        try body(fields, versions, path)
        for field in fields {
            guard let nested = field["fields"] as? [[String: Any]] else { continue }
            let name = field["name"] as? String ?? "?"
            let fieldVersions = try range(field["versions"] as? String, "\(path).\(name)") ?? versions
            try forEachStruct(nested, versions: fieldVersions, path: "\(path).\(name)", body)
        }
    }

    @Test("there is exactly one spec per required API, named NNN-Name.json after its key and name")
    func oneFilePerAPI() throws {
        var found: [Int: String] = [:]
        for (path, json) in try Self.messageSpecs() {
            let key = try #require(json["apiKey"] as? Int, "\(path) apiKey")
            let name = try #require(json["name"] as? String, "\(path) name")
            #expect(json["family"] as? String == "kafka.message", "\(path)")
            let padded = String(repeating: "0", count: max(0, 3 - String(key).count)) + String(key)
            #expect(path == "kafka/messages/\(padded)-\(name).json", "\(path) should be named after key \(key) and \(name)")
            #expect(found[key] == nil, "API key \(key) appears twice")
            found[key] = name
        }
        #expect(found == Self.requiredAPIs)
    }

    @Test("every request has a response, and both name the upstream files they come from")
    func requestResponsePairing() throws {
        for (path, json) in try Self.messageSpecs() {
            let name = json["name"] as? String ?? ""
            for side in ["request", "response"] {
                let object = try #require(json[side] as? [String: Any], "\(path) lacks \(side)")
                #expect(object["fields"] is [[String: Any]], "\(path) \(side) lacks fields")
                #expect((object["doc"] as? String)?.isEmpty == false, "\(path) \(side) lacks doc")
            }
            #expect(json["upstreamFiles"] as? [String] == ["\(name)Request.json", "\(name)Response.json"], "\(path)")
        }
    }

    @Test("version ranges are valid: supported ⊆ upstream, fields inside their struct and overlapping the supported range")
    func versionRanges() throws {
        for (path, json) in try Self.messageSpecs() {
            let upstream = try #require(try Self.range(json["upstreamVersions"] as? String, path))
            let supported = try #require(try Self.range(json["versions"] as? String, path))
            #expect(upstream.high < Int(Int16.max) && supported.high < Int(Int16.max), "\(path): message version ranges must be closed")
            #expect(upstream.contains(supported), "\(path): supported \(supported) outside upstream \(upstream)")
            #expect((json["versionsRationale"] as? String)?.isEmpty == false, "\(path) must say why the range was chosen")
            if let deprecated = try Self.range(json["deprecatedVersions"] as? String ?? "none", path) {
                #expect(upstream.contains(deprecated), "\(path): deprecated versions outside upstream")
            }
            for side in ["request", "response"] {
                let fields = (json[side] as? [String: Any])?["fields"] as? [[String: Any]] ?? []
                try Self.forEachStruct(fields, versions: Range(low: 0, high: Int(Int16.max)), path: "\(path) \(side)") { fields, parent, structPath in
                    for field in fields {
                        let context = "\(structPath).\(field["name"] as? String ?? "?")"
                        let versions = try #require(try Self.range(field["versions"] as? String, context), "\(context) exists in no version")
                        #expect(parent.contains(versions), "\(context): versions \(versions) outside the enclosing \(parent)")
                        #expect(versions.overlaps(supported), "\(context): never present in the supported versions")
                        if let nullable = try Self.range(field["nullableVersions"] as? String ?? "none", context) {
                            #expect(versions.contains(nullable), "\(context): nullableVersions outside versions")
                        }
                    }
                }
            }
        }
    }

    @Test("flexible versions are open-ended, and tagged fields live only in flexible versions")
    func flexibleVersions() throws {
        for (path, json) in try Self.messageSpecs() {
            let flexibleText = json["flexibleVersions"] as? String
            let flexible = try Self.range(flexibleText, path)
            if let flexible { #expect(flexible.high == Int(Int16.max), "\(path): flexibleVersions must be N+") }
            for side in ["request", "response"] {
                let fields = (json[side] as? [String: Any])?["fields"] as? [[String: Any]] ?? []
                try Self.forEachStruct(fields, versions: Range(low: 0, high: Int(Int16.max)), path: "\(path) \(side)") { fields, _, structPath in
                    for field in fields where field["tag"] != nil || field["taggedVersions"] != nil {
                        let context = "\(structPath).\(field["name"] as? String ?? "?")"
                        #expect(field["tag"] is Int && field["taggedVersions"] is String, "\(context): tag and taggedVersions go together")
                        let tagged = try Self.range(field["taggedVersions"] as? String, context)
                        let versions = try Self.range(field["versions"] as? String, context)
                        if let tagged, let versions {
                            #expect(flexible?.contains(tagged) == true, "\(context): tagged outside flexible versions")
                            #expect(versions.contains(tagged), "\(context): taggedVersions outside versions")
                        }
                    }
                }
            }
        }
    }

    @Test("tags are unique within each struct, and field names too")
    func uniqueTags() throws {
        for (path, json) in try Self.messageSpecs() {
            for side in ["request", "response"] {
                let fields = (json[side] as? [String: Any])?["fields"] as? [[String: Any]] ?? []
                try Self.forEachStruct(fields, versions: Range(low: 0, high: Int(Int16.max)), path: "\(path) \(side)") { fields, _, structPath in
                    let tags = fields.compactMap { $0["tag"] as? Int }
                    #expect(Set(tags).count == tags.count, "\(structPath): duplicate tags \(tags)")
                    let names = fields.compactMap { ($0["name"] as? String)?.lowercased() }
                    #expect(Set(names).count == names.count, "\(structPath): duplicate field names")
                }
            }
        }
    }

    @Test("every Kafka spec records the same upstream version and its references")
    func provenance() throws {
        var versions: Set<String> = []
        let errors = (path: "kafka/errors.json", json: try GeneratorTestSupport.foundationJSON("kafka/errors.json"))
        for (path, json) in try Self.messageSpecs() + [errors] {
            let source = try #require(json["source"] as? [String: Any], "\(path)")
            #expect(source["upstream"] as? String == "apache/kafka", "\(path)")
            versions.insert(source["version"] as? String ?? "")
            #expect((source["references"] as? [String])?.isEmpty == false, "\(path) lists no references")
            #expect((json["notes"] as? [String])?.isEmpty == false, "\(path) should note where its facts were checked")
        }
        #expect(versions.count == 1, "Kafka specs disagree on the upstream version: \(versions.sorted())")
    }

    @Test("every error code appears once, in ascending order, with a name, retriable flag, description and hint")
    func errorCodes() throws {
        let json = try GeneratorTestSupport.foundationJSON("kafka/errors.json")
        #expect(json["family"] as? String == "kafka.errors")
        let entries = try #require(json["errors"] as? [[String: Any]])
        let codes = entries.compactMap { $0["code"] as? Int }
        let names = entries.compactMap { $0["name"] as? String }
        #expect(codes.count == entries.count && names.count == entries.count)
        #expect(Set(codes).count == codes.count, "duplicate codes")
        #expect(Set(names).count == names.count, "duplicate names")
        #expect(codes == codes.sorted(), "codes must be in ascending order")
        #expect(codes.contains(0) && codes.contains(-1))
        // Upstream assigns -1 and 0...128 except 99 at the recorded commit.
        #expect(codes == [-1] + (0...128).filter { $0 != 99 })
        for entry in entries {
            let name = entry["name"] as? String ?? "?"
            #expect(entry["retriable"] is Bool, "\(name) retriable must be a boolean")
            #expect((entry["description"] as? String)?.isEmpty == false, "\(name) lacks a description")
            #expect((entry["hint"] as? String)?.isEmpty == false, "\(name) lacks a hint")
            #expect(name == name.uppercased() && !name.contains(" "), "\(name) is not UPPER_SNAKE_CASE")
        }
        let retriable = Set(entries.filter { $0["retriable"] as? Bool == true }.compactMap { $0["name"] as? String })
        for name in ["NOT_LEADER_OR_FOLLOWER", "UNKNOWN_TOPIC_OR_PARTITION", "LEADER_NOT_AVAILABLE", "NOT_COORDINATOR", "COORDINATOR_LOAD_IN_PROGRESS", "REQUEST_TIMED_OUT"] {
            #expect(retriable.contains(name), "\(name) should be retriable")
        }
        for name in ["UNKNOWN_MEMBER_ID", "ILLEGAL_GENERATION", "TOPIC_AUTHORIZATION_FAILED", "MESSAGE_TOO_LARGE", "NONE"] {
            #expect(!retriable.contains(name), "\(name) should not be retriable")
        }
    }

    @Test("the generator's own model agrees: supported ranges and first flexible versions")
    func generatorModel() throws {
        let generator = Generator(specsRoot: try GeneratorTestSupport.specsRoot())
        for document in try generator.loadSpecs() where document.family == KafkaMessageSpec.family {
            let spec = try KafkaMessageSpec(document: document)
            #expect(spec.request.name == "\(spec.name)Request" && spec.response.name == "\(spec.name)Response")
            #expect(spec.versions.isSubset(of: spec.upstreamVersions))
        }
        let errors = try KafkaErrorsSpec(document: try #require(try generator.loadSpecs().first { $0.family == KafkaErrorsSpec.family }))
        #expect(errors.entries.first { $0.code == 0 }?.swiftName == "noError")
        #expect(errors.entries.first { $0.name == "UNKNOWN_MEMBER_ID" }?.swiftName == "unknownMemberID")
    }
}
