import KafkaCatCore
import Testing
import ToolSupport

@Suite("kafka-cat output formats")
struct KafkaCatFormatTests {
    let record = KafkaCatRecord(topic: "orders", partition: 2, offset: 41, timestamp: 1_700_000_000_123,
                                key: Array("k1".utf8), value: Array("hello".utf8),
                                headers: [(name: "source", value: Array("cli".utf8)), (name: "trace", value: nil)])
    let nulls = KafkaCatRecord(topic: "t", partition: 0, offset: 0, timestamp: 5, key: nil, value: nil)

    private func text(_ format: String, _ record: KafkaCatRecord, showsNull: Bool = false) throws -> String {
        String(decoding: try KafkaCatFormat(parsing: format, showsNull: showsNull).render(record), as: UTF8.self)
    }

    @Test func everyTokenRenders() throws {
        #expect(try text("%t|%p|%o|%k|%K|%s|%S|%T|%h", record) == "orders|2|41|k1|2|hello|5|1700000000123|source=cli,trace=NULL")
        #expect(try text("%k=%s %h\\n", record) == "k1=hello source=cli,trace=NULL\n")
        #expect(try text("100%%\\t%o\\r\\n", record) == "100%\t41\r\n")
    }

    @Test func nullFieldsAreEmptyLengthsMinusOneOrNULLWithZ() throws {
        #expect(try text("[%k][%s][%K][%S][%h]", nulls) == "[][][-1][-1][]")
        #expect(try text("[%k][%s]", nulls, showsNull: true) == "[NULL][NULL]")
    }

    @Test func binaryLengthIsBigEndian() throws {
        let bytes = try KafkaCatFormat(parsing: "%R").render(record)
        #expect(bytes == [0, 0, 0, 5])
        #expect(try KafkaCatFormat(parsing: "%R").render(nulls) == [0xff, 0xff, 0xff, 0xff])
    }

    @Test func escapesInFormatText() throws {
        #expect(try text("\\x41\\0102\\67\\\\%o", record) == "ABC\\41")
    }

    @Test func defaultIsValueAndNewline() {
        #expect(String(decoding: KafkaCatFormat.defaultValue.render(record), as: UTF8.self) == "hello\n")
    }

    @Test func badTokensAreUsageErrors() {
        #expect(throws: UsageError.self) { try KafkaCatFormat(parsing: "%q") }
        #expect(throws: UsageError.self) { try KafkaCatFormat(parsing: "value %") }
    }

    @Test func jsonEnvelopeHasKcatFieldsInOrder() {
        #expect(KafkaCatJSON.record(record) == """
        {"topic":"orders","partition":2,"offset":41,"tstype":"create","ts":1700000000123,"broker":-1,\
        "headers":["source","cli","trace",null],"key":"k1","payload":"hello"}
        """)
        #expect(KafkaCatJSON.record(nulls) == """
        {"topic":"t","partition":0,"offset":0,"tstype":"create","ts":5,"broker":-1,"key":null,"payload":null}
        """)
        #expect(KafkaCatJSON.string("a\"b\\c\n\u{01}é") == "\"a\\\"b\\\\c\\n\\u0001é\"")
    }
}
