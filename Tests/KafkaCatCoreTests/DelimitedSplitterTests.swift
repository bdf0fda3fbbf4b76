import KafkaCatCore
import Testing

@Suite("kafka-cat input splitting")
struct DelimitedSplitterTests {
    private func split(_ text: String, _ delimiter: String) -> [String] {
        DelimitedSplitter.split(Array(text.utf8), delimiter: Array(delimiter.utf8)).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func splitsAtOneOrManyBytes() {
        #expect(split("a\nb\nc", "\n") == ["a", "b", "c"])
        #expect(split("a\nb\n", "\n") == ["a", "b"])
        #expect(split("a|b||c|", "|") == ["a", "b", "", "c"])
        #expect(split("a::b:c::", "::") == ["a", "b:c"])
    }

    @Test func delimiterSplitAcrossChunks() {
        var splitter = DelimitedSplitter(delimiter: Array("--".utf8))
        var messages: [String] = []
        for chunk in ["one-", "-two", "-", "-thr", "ee"] {
            splitter.append(Array(chunk.utf8))
            while let message = splitter.next() { messages.append(String(decoding: message, as: UTF8.self)) }
        }
        if let last = splitter.finish() { messages.append(String(decoding: last, as: UTF8.self)) }
        #expect(messages == ["one", "two", "three"])
    }
}
