import Foundation
import Testing
import TributaryGenKit

/// Lints the committed specs. Uniqueness and casing are checked with Foundation's JSON parser,
/// independently of the generator's own validation, so a validator bug cannot hide a bad spec.
@Suite("ProtocolSpecs lint")
struct SpecLintTests {
    @Test("every committed spec validates")
    func specsValidate() throws {
        let generator = Generator(specsRoot: try GeneratorTestSupport.specsRoot())
        let paths = try generator.specPaths()
        #expect(paths.contains("nats/protocol.json") && paths.contains("nats/errors.json"), "spec files found: \(paths)")
        try generator.validate()
    }

    @Test("every spec file records its provenance")
    func provenance() throws {
        for document in try Generator(specsRoot: GeneratorTestSupport.specsRoot()).loadSpecs() {
            if document.path.hasPrefix("nats/") {
                #expect(document.source.upstream == "nats-server", "\(document.path)")
                #expect(document.source.version.hasPrefix("v2."), "\(document.path) source.version \(document.source.version)")
            }
            #expect(document.source.version.first?.isNumber == true || document.source.version.hasPrefix("v"),
                    "\(document.path): source.version should be a release tag, not \(document.source.version)")
            #expect(!document.source.references.isEmpty, "\(document.path) lists no references")
        }
    }

    @Test("error kinds are unique lowerCamelCase names")
    func errorKindsUnique() throws {
        let entries = try #require(try GeneratorTestSupport.foundationJSON("nats/errors.json")["errors"] as? [[String: Any]])
        let kinds = entries.compactMap { $0["kind"] as? String }
        #expect(kinds.count == entries.count, "an entry lacks a string kind")
        #expect(Set(kinds).count == kinds.count, "duplicate kinds: \(duplicates(kinds))")
        for kind in kinds {
            #expect(SwiftIdentifier.isLowerCamelCase(kind), "\(kind) is not lowerCamelCase")
            #expect(kind != "unknown", "unknown is the generated fallback kind")
        }
    }

    @Test("match texts are unique, lowercase and trimmed")
    func matchTextsUniqueAndLowercase() throws {
        let entries = try #require(try GeneratorTestSupport.foundationJSON("nats/errors.json")["errors"] as? [[String: Any]])
        let matches = entries.compactMap { $0["match"] as? String }
        #expect(matches.count == entries.count, "an entry lacks a string match")
        #expect(Set(matches).count == matches.count, "duplicate match texts: \(duplicates(matches))")
        for match in matches {
            #expect(match == match.lowercased(), "\"\(match)\" is not lowercase")
            #expect(match == match.trimmingCharacters(in: .whitespaces) && !match.isEmpty, "\"\(match)\" is empty or padded")
        }
    }

    @Test("operation names and wire names are unique")
    func operationsUnique() throws {
        let operations = try #require(try GeneratorTestSupport.foundationJSON("nats/protocol.json")["operations"] as? [[String: Any]])
        let names = operations.compactMap { $0["name"] as? String }
        let wires = operations.compactMap { $0["wire"] as? String }
        #expect(names.count == operations.count && wires.count == operations.count)
        #expect(Set(names).count == names.count, "duplicate operation names: \(duplicates(names))")
        #expect(Set(wires).count == wires.count, "duplicate wire names: \(duplicates(wires))")
    }

    @Test("the protocol spec has every client-protocol operation with the right sender")
    func protocolOperations() throws {
        let spec = try NATSProtocolSpec(document: document("nats/protocol.json"))
        let senders = Dictionary(uniqueKeysWithValues: spec.operations.map { ($0.wire, $0.sender) })
        #expect(senders == [
            "INFO": .server, "CONNECT": .client, "PUB": .client, "HPUB": .client, "SUB": .client,
            "UNSUB": .client, "MSG": .server, "HMSG": .server, "PING": .both, "PONG": .both,
            "+OK": .server, "-ERR": .server,
        ])
        let syntax = Dictionary(uniqueKeysWithValues: spec.operations.map { ($0.wire, $0.syntax) })
        #expect(syntax["PUB"] == "PUB <subject> [reply-to] <#bytes>")
        #expect(syntax["HPUB"] == "HPUB <subject> [reply-to] <#header-bytes> <#total-bytes>")
        #expect(syntax["SUB"] == "SUB <subject> [queue-group] <sid>")
        #expect(syntax["UNSUB"] == "UNSUB <sid> [max_msgs]")
        #expect(syntax["MSG"] == "MSG <subject> <sid> [reply-to] <#bytes>")
        #expect(syntax["HMSG"] == "HMSG <subject> <sid> [reply-to] <#header-bytes> <#total-bytes>")
        #expect(syntax["PING"] == "PING")
    }

    @Test("the protocol spec has the constants and status codes the client relies on")
    func protocolConstants() throws {
        let spec = try NATSProtocolSpec(document: document("nats/protocol.json"))
        let constants = Dictionary(uniqueKeysWithValues: spec.constants.map { ($0.name, $0.value) })
        #expect(constants["defaultPort"] == .int(4222))
        #expect(constants["maxControlLineBytes"] == .int(4096))
        #expect(constants["protocolVersion"] == .int(1))
        #expect(constants["defaultMaxPayload"] == .int(1_048_576))
        #expect(constants["headerVersionLine"] == .string("NATS/1.0"))
        #expect(constants["crlf"] == .string("\r\n"))
        let codes = Dictionary(uniqueKeysWithValues: spec.statusCodes.map { ($0.name, $0.code) })
        #expect(codes == ["idleHeartbeat": 100, "noMessages": 404, "requestTimeout": 408, "conflict": 409, "noResponders": 503])
    }

    @Test("the error spec has the -ERR texts nats-server sends, with the right connection behaviour")
    func requiredErrors() throws {
        let spec = try NATSErrorsSpec(document: document("nats/errors.json"))
        let closes = Dictionary(uniqueKeysWithValues: spec.rules.map { ($0.kind, $0.closesConnection) })
        let expected: [String: Bool] = [
            "authorizationViolation": true, "authenticationTimeout": true, "userAuthenticationExpired": true,
            "accountAuthenticationExpired": true, "permissionsViolation": false, "maximumPayloadViolation": true,
            "maximumConnectionsExceeded": true, "maximumSubscriptionsExceeded": false, "staleConnection": true,
            "slowConsumer": true, "unknownProtocolOperation": true, "parserError": true, "invalidSubject": false,
            "secureConnectionTLSRequired": true, "noRespondersRequiresHeaders": true, "invalidClientProtocol": true,
        ]
        for (kind, closesConnection) in expected.sorted(by: { $0.key < $1.key }) {
            #expect(closes[kind] == closesConnection, "\(kind): closesConnection is \(String(describing: closes[kind])), expected \(closesConnection)")
        }
        #expect(spec.unknown.closesConnection)
        #expect(spec.rules.allSatisfy { !$0.hint.isEmpty && !$0.hint.contains("\n") })
    }

    @Test("server texts classify as expected, whatever their quoting and case", arguments: [
        ("'Authorization Violation'", "authorizationViolation"),
        ("  'Permissions Violation for Publish to \"foo\"'\r\n", "permissionsViolation"),
        ("Permissions Violation for Subscription to \"foo\"", "permissionsViolation"),
        ("PERMISSIONS VIOLATION FOR SUBSCRIPTION TO \"foo\" using queue \"q\"", "permissionsViolation"),
        ("'maximum payload violation'", "maximumPayloadViolation"),
        ("'Invalid Subject'", "invalidSubject"),
        ("'Invalid Publish Subject'", "invalidPublishSubject"),
        ("'Stale Connection'", "staleConnection"),
        ("'Secure Connection - TLS Required'", "secureConnectionTLSRequired"),
    ])
    func classification(text: String, kind: String) throws {
        let spec = try NATSErrorsSpec(document: document("nats/errors.json"))
        #expect(spec.classify(text)?.kind == kind)
    }

    @Test("texts no rule knows are left unclassified", arguments: ["'Something New'", "", "'", "authorization", "violation authorization"])
    func unknownTexts(text: String) throws {
        let spec = try NATSErrorsSpec(document: document("nats/errors.json"))
        #expect(spec.classify(text) == nil)
    }

    private func document(_ path: String) throws -> SpecDocument {
        try SpecDocument(contentsOf: GeneratorTestSupport.specsRoot().appendingPathComponent(path), path: path)
    }

    private func duplicates(_ values: [String]) -> [String] {
        Dictionary(grouping: values, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
    }
}
