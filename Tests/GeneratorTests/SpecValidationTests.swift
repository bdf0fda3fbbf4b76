import Foundation
import Testing
import TributaryGenKit

/// A deliberately broken spec and the error it must produce.
struct BrokenSpec: Sendable, CustomTestStringConvertible {
    let name: String
    let file: String
    let old: String
    let new: String
    /// The key path the error must name.
    let key: String
    /// A fragment the error message must contain.
    let message: String

    var testDescription: String { name }
}

/// Broken specs written to a temporary directory are rejected with an error naming the file
/// and key.
@Suite("Spec validation")
struct SpecValidationTests {
    static let brokenSpecs: [BrokenSpec] = [
        BrokenSpec(name: "missing hint", file: "nats/errors.json",
                   old: #""hint": "Publish elsewhere.","#, new: "",
                   key: "errors[1].hint", message: "missing required key \"hint\""),
        BrokenSpec(name: "uppercase match", file: "nats/errors.json",
                   old: #""match": "permissions violation for publish""#, new: #""match": "Permissions Violation for Publish""#,
                   key: "errors[1].match", message: "must be lowercase"),
        BrokenSpec(name: "duplicate kind", file: "nats/errors.json",
                   old: #""kind": "publishViolation""#, new: #""kind": "permissionsViolation""#,
                   key: "errors[1].kind", message: "duplicate error kind \"permissionsViolation\""),
        BrokenSpec(name: "duplicate match", file: "nats/errors.json",
                   old: #""match": "permissions violation for publish""#, new: #""match": "permissions violation""#,
                   key: "errors[1].match", message: "duplicate match text"),
        BrokenSpec(name: "misspelled key", file: "nats/errors.json",
                   old: #""closesConnection": false"#, new: #""closesConection": false"#,
                   key: "errors[0].closesConection", message: "unknown key"),
        BrokenSpec(name: "boolean written as a string", file: "nats/errors.json",
                   old: #""closesConnection": true, "hint": "Read the log.""#, new: #""closesConnection": "yes", "hint": "Read the log.""#,
                   key: "unknown.closesConnection", message: "expected true or false, found a string"),
        BrokenSpec(name: "reserved kind", file: "nats/errors.json",
                   old: #""kind": "publishViolation""#, new: #""kind": "unknown""#,
                   key: "errors[1].kind", message: "reserved"),
        BrokenSpec(name: "kind that is not lowerCamelCase", file: "nats/errors.json",
                   old: #""kind": "publishViolation""#, new: #""kind": "publish-violation""#,
                   key: "errors[1].kind", message: "not lowerCamelCase"),
        BrokenSpec(name: "example shadowed by another rule", file: "nats/errors.json",
                   old: #""match": "permissions violation for publish""#, new: #""match": "permissions violation for publishing""#,
                   key: "errors[1].examples[0]", message: "classifies as permissionsViolation, not publishViolation"),
        BrokenSpec(name: "no examples", file: "nats/errors.json",
                   old: #""examples": ["Permissions Violation for Publish to \"a\""]"#, new: #""examples": []"#,
                   key: "errors[1].examples", message: "at least one"),
        BrokenSpec(name: "multi-line hint", file: "nats/errors.json",
                   old: #""hint": "Publish elsewhere.""#, new: #""hint": ["Publish", "elsewhere."]"#,
                   key: "errors[1].hint", message: "single line"),
        BrokenSpec(name: "missing provenance version", file: "nats/errors.json",
                   old: #""upstream": "test-server", "version": "v0.0.1""#, new: #""upstream": "test-server""#,
                   key: "source.version", message: "missing required key \"version\""),
        BrokenSpec(name: "unknown family", file: "nats/errors.json",
                   old: #""family": "nats.errors""#, new: #""family": "nats.errorz""#,
                   key: "family", message: "no renderer handles family \"nats.errorz\""),
        BrokenSpec(name: "unknown top-level key", file: "nats/protocol.json",
                   old: #""statusCodes": ["#, new: #""statusCode": ["#,
                   key: "statusCode", message: "unknown key"),
        BrokenSpec(name: "duplicate wire name", file: "nats/protocol.json",
                   old: #""wire": "PING""#, new: #""wire": "PUB""#,
                   key: "operations[1].wire", message: "duplicate wire name \"PUB\""),
        BrokenSpec(name: "duplicate operation name", file: "nats/protocol.json",
                   old: #""name": "ping""#, new: #""name": "pub""#,
                   key: "operations[1].name", message: "duplicate operation name"),
        BrokenSpec(name: "malformed wire name", file: "nats/protocol.json",
                   old: #""wire": "PING""#, new: #""wire": "Ping""#,
                   key: "operations[1].wire", message: "not an operation name"),
        BrokenSpec(name: "unknown sender", file: "nats/protocol.json",
                   old: #""sender": "both""#, new: #""sender": "anyone""#,
                   key: "operations[1].sender", message: "unknown sender"),
        BrokenSpec(name: "malformed argument name", file: "nats/protocol.json",
                   old: #""name": "reply-to""#, new: #""name": "Reply To""#,
                   key: "operations[0].arguments[1].name", message: "not an argument name"),
        BrokenSpec(name: "constant of the wrong type", file: "nats/protocol.json",
                   old: #""value": 4222"#, new: #""value": "4222""#,
                   key: "constants[0].value", message: "expected an integer, found a string"),
        BrokenSpec(name: "constant named with a keyword", file: "nats/protocol.json",
                   old: #""name": "defaultPort""#, new: #""name": "default""#,
                   key: "constants[0].name", message: "Swift keyword"),
        BrokenSpec(name: "status code out of range", file: "nats/protocol.json",
                   old: #""code": 503"#, new: #""code": 5030"#,
                   key: "statusCodes[0].code", message: "outside 100...599"),
        BrokenSpec(name: "empty doc", file: "nats/protocol.json",
                   old: #""doc": "Pings.""#, new: #""doc": " ""#,
                   key: "operations[1].doc", message: "must not be empty"),
        BrokenSpec(name: "duplicate JSON key", file: "nats/protocol.json",
                   old: #""name": "ping", "wire": "PING""#, new: #""name": "ping", "name": "pong", "wire": "PING""#,
                   key: "operations[1].name", message: "duplicate key \"name\""),
    ]

    @Test("a broken spec is rejected with an error naming its file and key", arguments: brokenSpecs)
    func brokenSpecIsRejected(_ broken: BrokenSpec) throws {
        let specs = try GeneratorTestSupport.makeTemporaryDirectory()
        defer { GeneratorTestSupport.removeTemporaryDirectory(specs) }
        try MiniSpecs.write(under: specs, changing: broken.file, replacing: broken.old, with: broken.new)

        let error = #expect(throws: SpecError.self) { try Generator(specsRoot: specs).render() }
        #expect(error?.file == broken.file)
        #expect(error?.key == broken.key)
        #expect(error?.message.contains(broken.message) == true, "message was: \(error?.message ?? "nil")")
        #expect(error?.line != nil, "the error should name a line")
        if let error {
            #expect(error.description.hasPrefix("\(broken.file):\(error.line ?? 0): \(broken.key): "), "description was: \(error.description)")
        }
    }

    @Test("the unmodified mini specs are valid (so each broken case fails for its own reason)")
    func miniSpecsAreValid() throws {
        let specs = try GeneratorTestSupport.makeTemporaryDirectory()
        defer { GeneratorTestSupport.removeTemporaryDirectory(specs) }
        try MiniSpecs.write(under: specs)
        #expect(try Generator(specsRoot: specs).render().count == 2)
    }

    @Test("invalid JSON is reported with file and line", arguments: [
        ("{\n  \"family\": \"nats.errors\",\n  \"source\": {}\n  \"errors\": []\n}", 4, "expected ',' or '}'"),
        ("{\n  \"family\": \"nats.errors\",\n}", 3, "expected a quoted object key"),
        ("{\"family\": \"nats\u{1}errors\"}", 1, "control character"),
        ("{\"family\": 01}", 1, "leading zeros"),
        ("{} {}", 1, "after the end of the document"),
        ("[1, 2", 1, "expected ',' or ']'"),
        ("{\"a\": \"\\ud800\"}", 1, "low surrogate"),
    ])
    func invalidJSON(text: String, line: Int, message: String) throws {
        let error = #expect(throws: SpecError.self) {
            try SpecDocument(path: "nats/broken.json", data: Data(text.utf8))
        }
        #expect(error?.file == "nats/broken.json")
        #expect(error?.line == line)
        #expect(error?.message.contains(message) == true, "message was: \(error?.message ?? "nil")")
    }

    @Test("JSON escapes, nesting and numbers are decoded")
    func jsonDecoding() throws {
        let text = #"{"family": "x.y", "source": {"title": "T\u00e9st \ud83d\ude00 \"q\" \\ \/", "upstream": "u", "version": "v1"}, "notes": ["a\tb"]}"#
        let document = try SpecDocument(path: "x.json", data: Data(text.utf8))
        #expect(document.family == "x.y")
        #expect(document.source.title == "Tést 😀 \"q\" \\ /")
        #expect(document.notes == ["a\tb"])
        #expect(document.source.summary == "Tést 😀 \"q\" \\ /, u v1")
    }

    @Test("a family with a single spec file must have exactly one")
    func missingSpecFile() throws {
        let specs = try GeneratorTestSupport.makeTemporaryDirectory()
        defer { GeneratorTestSupport.removeTemporaryDirectory(specs) }
        try GeneratorTestSupport.write(MiniSpecs.protocolSpec, to: "nats/protocol.json", under: specs)
        let missing = #expect(throws: SpecError.self) { try Generator(specsRoot: specs).render() }
        #expect(missing?.file == "nats/errors.json")
        #expect(missing?.message.contains("no spec file with family \"nats.errors\"") == true)

        try GeneratorTestSupport.write(MiniSpecs.errorsSpec, to: "nats/errors.json", under: specs)
        try GeneratorTestSupport.write(MiniSpecs.errorsSpec, to: "nats/more/errors.json", under: specs)
        let twice = #expect(throws: SpecError.self) { try Generator(specsRoot: specs).render() }
        #expect(twice?.file == "nats/more/errors.json")
        #expect(twice?.key == "family")
    }

    @Test("a missing specs directory is reported")
    func missingSpecsDirectory() throws {
        let temporary = try GeneratorTestSupport.makeTemporaryDirectory()
        defer { GeneratorTestSupport.removeTemporaryDirectory(temporary) }
        let error = #expect(throws: GeneratorError.self) {
            try Generator(specsRoot: temporary.appendingPathComponent("nope")).render()
        }
        #expect(error?.message.contains("does not exist") == true)
    }
}
