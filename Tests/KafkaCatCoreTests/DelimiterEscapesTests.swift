import KafkaCatCore
import Testing
import ToolSupport

@Suite("kafka-cat delimiter escapes")
struct DelimiterEscapesTests {
    @Test func escapesBecomeBytes() throws {
        #expect(try DelimiterEscapes.bytes("\\n", flag: "-D") == [0x0a])
        #expect(try DelimiterEscapes.bytes("\\t\\n\\n", flag: "-D") == [0x09, 0x0a, 0x0a])
        #expect(try DelimiterEscapes.bytes("\\x54!\\x45\\x53T", flag: "-D") == Array("T!EST".utf8))
        #expect(try DelimiterEscapes.bytes("\\x30", flag: "-D") == Array("0".utf8))
        #expect(try DelimiterEscapes.bytes("a\\\\b", flag: "-D") == Array("a\\b".utf8))
        #expect(try DelimiterEscapes.bytes("|", flag: "-D") == Array("|".utf8))
        #expect(try DelimiterEscapes.bytes("", flag: "-D") == [])
    }
}
