import Testing
@testable import TributaryJetStream

@Suite("Ack reply subject parsing")
struct JetStreamMessageMetadataTests {
    @Test("the 9-token form")
    func nineTokens() throws {
        let metadata = try #require(JetStreamMessageMetadata(replySubject: "$JS.ACK.ORDERS.worker.3.1042.77.1700000000123456789.5"))
        #expect(metadata == JetStreamMessageMetadata(stream: "ORDERS", consumer: "worker", deliveredCount: 3, streamSequence: 1042,
                                                     consumerSequence: 77, timestampNanoseconds: 1_700_000_000_123_456_789, pending: 5))
        #expect(metadata.domain == nil && metadata.accountHash == nil)
    }

    @Test("the 12-token form with a domain, and `_` meaning no domain")
    func twelveTokens() throws {
        let withDomain = try #require(JetStreamMessageMetadata(replySubject: "$JS.ACK.hub.ACCHASH.ORDERS.worker.1.9.9.1700000000000000000.0.r4nd0m"))
        #expect(withDomain.domain == "hub")
        #expect(withDomain.accountHash == "ACCHASH")
        #expect(withDomain.stream == "ORDERS" && withDomain.consumer == "worker")
        #expect(withDomain.deliveredCount == 1 && withDomain.streamSequence == 9 && withDomain.consumerSequence == 9 && withDomain.pending == 0)
        let noDomain = try #require(JetStreamMessageMetadata(replySubject: "$JS.ACK._.ACCHASH.S.C.2.3.4.5.6.xyz"))
        #expect(noDomain.domain == nil)
        #expect(noDomain.deliveredCount == 2 && noDomain.timestampNanoseconds == 5 && noDomain.pending == 6)
    }

    @Test("numbers read as UInt64(_:) and Int64(_:) read them: a leading sign, the extremes")
    func numbersAtTheirLimits() throws {
        let metadata = try #require(JetStreamMessageMetadata(replySubject: "$JS.ACK.S.C.+1.18446744073709551615.0.-9223372036854775808.7"))
        #expect(metadata.deliveredCount == 1 && metadata.streamSequence == UInt64.max && metadata.consumerSequence == 0)
        #expect(metadata.timestampNanoseconds == Int64.min && metadata.pending == 7)
        let negative = try #require(JetStreamMessageMetadata(replySubject: "$JS.ACK.S.C.1.2.3.-42.0"))
        #expect(negative.timestampNanoseconds == -42)
    }

    @Test("11 tokens and more than 12 are accepted (later servers may append tokens)")
    func elevenAndMore() throws {
        let eleven = try #require(JetStreamMessageMetadata(replySubject: "$JS.ACK.d.H.S.C.1.2.3.4.5"))
        #expect(eleven.stream == "S" && eleven.pending == 5)
        let thirteen = try #require(JetStreamMessageMetadata(replySubject: "$JS.ACK.d.H.S.C.1.2.3.4.5.r.extra"))
        #expect(thirteen.consumerSequence == 3)
    }

    @Test("subjects that are not ack subjects give nil", arguments: [
        "_INBOX.abc.def",
        "$JS.ACK.S.C.1.2.3.4",              // 8 tokens
        "$JS.ACK.d.H.S.C.1.2.3.4",          // 10 tokens
        "$JS.ACK.S.C.x.2.3.4.5",            // delivered not a number
        "$JS.ACK.S.C.1.2.3.4.-5",           // negative pending
        "$JS.NAK.S.C.1.2.3.4.5",
        "$JS.ACK..C.1.2.3.4.5",             // empty stream
        "$JS.ACK.S.C.1.2.3.-+4.5",          // two signs
        "$JS.ACK.S.C.1.2.3.4.18446744073709551616", // pending over UInt64
        "$JS.ACK.S.C.1.2.3.9223372036854775808.5",  // time over Int64
        "$JS.ACK.S.C.1..3.4.5",             // empty number
        "$JS.ACK.S.C.1.2.3.4.5.",           // 10 tokens, the last empty
    ])
    func rejects(subject: String) {
        #expect(JetStreamMessageMetadata(replySubject: subject) == nil)
    }
}
