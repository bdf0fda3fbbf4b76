import Testing
@testable import TributaryJetStream

@Suite("Stream and consumer name validation")
struct NameValidationTests {
    @Test(arguments: ["ORDERS", "KV_bucket-1", "OBJ_files", "a", "ünïcode", "名前", "x~y!z"])
    func acceptedNames(_ name: String) throws {
        try JetStreamContext.validateName(name, what: "stream")
    }

    @Test(arguments: [
        ("a.b", "'.'"), ("a*", "'*'"), ("a>", "'>'"), ("a/b", "'/'"), ("a\\b", "'\\'"),
        ("a b", "'whitespace'"), ("a\tb", "'whitespace'"), ("a\u{00A0}b", "'whitespace'"), ("ü b", "'whitespace'"),
        ("a\u{7F}b", "'\u{7F}'"), ("é.x", "'.'"),
    ])
    func refusedNames(_ name: String, _ named: String) {
        #expect {
            try JetStreamContext.validateName(name, what: "stream")
        } throws: { error in
            guard let error = error as? JetStreamError else { return false }
            return error.code == .invalidArgument && error.message.contains("contains \(named)")
        }
    }

    @Test func anEmptyNameIsRefused() {
        #expect(throws: JetStreamError.self) { try JetStreamContext.validateName("", what: "stream") }
    }
}
