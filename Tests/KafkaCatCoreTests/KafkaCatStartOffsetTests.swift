import KafkaCatCore
import Testing
import ToolSupport

@Suite("kafka-cat -o")
struct KafkaCatStartOffsetTests {
    @Test func kcatSpellings() throws {
        #expect(try KafkaCatStartOffset.parse("beginning") == .beginning)
        #expect(try KafkaCatStartOffset.parse("stored") == .beginning)
        #expect(try KafkaCatStartOffset.parse("end") == .end)
        #expect(try KafkaCatStartOffset.parse("42") == .offset(42))
        #expect(try KafkaCatStartOffset.parse("0") == .offset(0))
        #expect(try KafkaCatStartOffset.parse("-3") == .fromEnd(3))
        #expect(try KafkaCatStartOffset.parse("s@1700000000000") == .timestamp(1_700_000_000_000))
    }

    @Test func badValuesAreUsageErrors() {
        for text in ["", "start", "1.5", "s@", "s@x", "e@5", "--1"] {
            #expect(throws: UsageError.self, "\(text)") { try KafkaCatStartOffset.parse(text) }
        }
    }

    @Test func relativeOffsetsStopAtTheLogStart() {
        #expect(KafkaCatStartOffset.fromEnd(2).resolve(logStart: 0, logEnd: 10) == 8)
        #expect(KafkaCatStartOffset.fromEnd(20).resolve(logStart: 3, logEnd: 10) == 3)
        #expect(KafkaCatStartOffset.end.resolve(logStart: 3, logEnd: 10) == 10)
        #expect(KafkaCatStartOffset.beginning.resolve(logStart: 3, logEnd: 10) == 3)
    }
}
