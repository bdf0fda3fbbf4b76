import Foundation
import Testing
import TributaryWire

@Suite("Bounded JSON reader and writer")
struct JSONValueTests {
    func parse(_ text: String) throws(JSONValue.ParseError) -> JSONValue {
        try Array(text.utf8).withBytes { (raw) throws(JSONValue.ParseError) in try JSONValue.parse(raw) }
    }

    @Test func readsEveryKindOfValue() throws {
        let value = try parse(#" {"s":"a\"b\\c\n\u00e9\ud83d\ude00","n":-12,"big":4611686018427387904,"t":true,"f":false,"z":null,"a":[1,"x",[]],"o":{}} "#)
        #expect(value["s"]?.stringValue == "a\"b\\c\né😀")
        #expect(value["n"]?.intValue == -12)
        #expect(value["big"]?.intValue == 1 << 62)
        #expect(value["t"]?.boolValue == true && value["f"]?.boolValue == false)
        #expect(value["z"] == .null)
        #expect(value["a"]?.arrayValue?.count == 3)
        #expect(value["o"] == .object([:]))
        #expect(value["missing"] == nil)
    }

    @Test(arguments: [
        ("", "expected a JSON value"),
        (#"{"a":1"#, "expected ',' or '}'"),
        (#"{"a" 1}"#, "expected ':'"),
        (#"{"a":1} x"#, "expected the end"),
        (#"["unterminated]"#, "unterminated string"),
        (#""\x""#, "invalid escape"),
        ("tru", "expected 'true'"),
    ])
    func malformedInputIsATypedErrorWithAnOffset(text: String, expected: String) {
        do {
            _ = try parse(text)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.message.contains(expected), "\(error)")
            #expect(error.offset >= 0 && error.offset <= text.utf8.count)
        }
    }

    @Test func deepNestingIsRefusedNotRecursedInto() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONValue.ParseError.self) { _ = try parse(deep) }
    }

    @Test func writerEscapesAndRoundTrips() throws {
        var writer = JSONObjectWriter()
        writer.add("name", "quote\" slash\\ nl\n tab\t bell\u{07}")
        writer.add("flag", true)
        writer.add("count", 42)
        let bytes = writer.bytes
        let value = try bytes.withBytes { (raw) throws(JSONValue.ParseError) in try JSONValue.parse(raw) }
        #expect(value["name"]?.stringValue == "quote\" slash\\ nl\n tab\t bell\u{07}")
        #expect(value["flag"]?.boolValue == true)
        #expect(value["count"]?.intValue == 42)
    }

    @Test("a high surrogate followed by an escape that is not a low surrogate reads as U+FFFD, then that escape")
    func unpairedHighSurrogate() throws {
        #expect(try parse(#""\uD8FE\u2EDF""#) == .string("\u{FFFD}\u{2EDF}"))
        #expect(try parse(#""\uDBFF\uDBFF\uDC00""#) == .string("\u{FFFD}\u{10FC00}"))
        #expect(try parse(#""\uD800\u0041""#) == .string("\u{FFFD}A"))
        #expect(try parse(#""\uDC00""#) == .string("\u{FFFD}"))
    }

    @Test("the fuzz input with an unpaired high surrogate gives a ParseError, not a trap (fuzz fixture)")
    func unpairedHighSurrogateFixture() throws {
        let bytes = try fuzzFixture("json-value/unpaired-high-surrogate")
        #expect(throws: JSONValue.ParseError.self) {
            try bytes.withBytes { (raw) throws(JSONValue.ParseError) in try JSONValue.parse(raw) }
        }
    }
}

/// Bytes of a fuzz fixture under `Tests/Fixtures/fuzz` (see its README), found upward from this file.
func fuzzFixture(_ name: String, from file: String = #filePath) throws -> [UInt8] {
    var directory = URL(fileURLWithPath: file).deletingLastPathComponent()
    while directory.path != "/" {
        let candidate = directory.appendingPathComponent("Fixtures/fuzz").appendingPathComponent(name)
        if FileManager.default.fileExists(atPath: candidate.path) {
            return [UInt8](try Data(contentsOf: candidate))
        }
        directory.deleteLastPathComponent()
    }
    throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "Fixtures/fuzz/" + name])
}
