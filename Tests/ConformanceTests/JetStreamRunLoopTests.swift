import Foundation
import Synchronization
import Testing
import TributaryJetStream
import TributaryNATS
import TributaryTestSupport

@Suite("JetStream run loop with a dead-letter subject against a real nats-server")
struct JetStreamRunLoopTests {
    /// A work-queue stream of `count` messages ("bad" every fifth), its dead-letter stream, and a durable consumer.
    ///
    /// The ack wait is long where the test counts deliveries: redelivery after an ack wait is
    /// at-least-once working as it should, and a test process running a few hundred tests on
    /// two cores can take longer than 10 s between a delivery and its acknowledgement.
    static func setUp(_ js: JetStreamContext, count: Int, maxDeliver: Int, ackWait: Duration = .seconds(120))
        async throws -> (stream: String, subject: String, dlq: String, consumer: JetStreamConsumer) {
        let (stream, subject) = uniqueStream("WORK")
        try await js.createStream(StreamConfig(name: stream, subjects: ["\(subject).>"], retention: .workQueue))
        let dlq = "\(stream)_DLQ"
        try await js.createStream(StreamConfig(name: dlq, subjects: ["DLQ.\(stream).>"]))
        for index in 0..<count {
            var headers = NATSHeaders()
            headers["Order-Id"] = "o-\(index)"
            try await js.publish(index % 5 == 0 ? "bad-\(index)" : "good-\(index)", to: "\(subject).jobs", headers: headers,
                                 options: JetStreamPublishOptions(messageID: "job-\(index)"))
        }
        let consumer = try await js.createConsumer(stream: stream, config: ConsumerConfig(durableName: "workers", ackWait: ackWait, maxDeliver: maxDeliver))
        return (stream, subject, dlq, consumer)
    }

    /// Reads `count` dead letters through an ordered consumer.
    static func deadLetters(_ js: JetStreamContext, _ dlq: String, count: Int) async throws -> [JetStreamMessage] {
        let ordered = try js.orderedConsumer(stream: dlq)
        defer { ordered.stop() }
        var letters: [JetStreamMessage] = []
        for try await letter in ordered {
            letters.append(letter)
            if letters.count == count { break }
        }
        return letters
    }

    @Test func failingMessagesMoveToTheDeadLetterSubjectAfterMaxDeliver() async throws {
        let (client, js) = try await connectJetStream()
        let (stream, _, dlq, consumer) = try await Self.setUp(js, count: 20, maxDeliver: 3)
        let attempts = Mutex<[String: Int]>([:])
        let runner = Task {
            try await consumer.run(concurrency: 4, retry: JetStreamRetryPolicy(attempts: 5, backoff: .milliseconds(20))) { message in
                attempts.withLock { $0[message.string, default: 0] += 1 }
                if message.string.hasPrefix("bad") { throw CocoaError(.featureUnsupported) }
            }
        }
        let letters = try await Self.deadLetters(js, dlq, count: 4)
        runner.cancel()
        try await runner.value

        #expect(Set(letters.map(\.string)) == ["bad-0", "bad-5", "bad-10", "bad-15"])
        for letter in letters {
            let headers = try #require(letter.headers)
            #expect(headers[JetStreamDeadLetterPolicy.streamHeader] == stream)
            #expect(headers[JetStreamDeadLetterPolicy.consumerHeader] == "workers")
            #expect(headers[JetStreamDeadLetterPolicy.deliveriesHeader] == "3", "the consumer's max deliver (3) is below the policy's 5")
            #expect(headers[JetStreamDeadLetterPolicy.reasonHeader] == "handler-failed")
            #expect(headers[JetStreamDeadLetterPolicy.errorHeader]?.isEmpty == false)
            #expect(headers["Order-Id"] == "o-\(letter.string.dropFirst(4))", "the original headers travel along")
            let sequence = try #require(headers[JetStreamDeadLetterPolicy.sequenceHeader].flatMap(UInt64.init))
            #expect(sequence == UInt64(letter.string.dropFirst(4))! + 1)
        }
        let counts = attempts.withLock { $0 }
        #expect(counts.filter { $0.key.hasPrefix("good") }.allSatisfy { $0.value == 1 })
        #expect(counts.filter { $0.key.hasPrefix("bad") }.allSatisfy { $0.value == 3 })
        #expect(counts.count == 20)
        // Everything was acknowledged: the work queue is empty, exactly four dead letters exist.
        #expect(try await js.streamInfo(stream).state.messages == 0)
        #expect(try await js.streamInfo(dlq).state.messages == 4)
        try await js.deleteStream(stream)
        try await js.deleteStream(dlq)
        await client.close()
    }

    @Test func terminatedMessagesMoveAtOnce() async throws {
        let (client, js) = try await connectJetStream()
        let (stream, _, dlq, consumer) = try await Self.setUp(js, count: 10, maxDeliver: 5)
        let runner = Task {
            try await consumer.run { message in
                if message.string.hasPrefix("bad") { throw JetStreamTerminate(reason: "unparseable order") }
            }
        }
        let letters = try await Self.deadLetters(js, dlq, count: 2)
        runner.cancel()
        try await runner.value
        #expect(Set(letters.map(\.string)) == ["bad-0", "bad-5"])
        #expect(letters.allSatisfy { $0.headers?[JetStreamDeadLetterPolicy.reasonHeader] == "terminated" })
        #expect(letters.allSatisfy { $0.headers?[JetStreamDeadLetterPolicy.deliveriesHeader] == "1" })
        #expect(letters.allSatisfy { $0.headers?[JetStreamDeadLetterPolicy.errorHeader] == "unparseable order" })
        #expect(try await js.streamInfo(stream).state.messages == 0)
        try await js.deleteStream(stream)
        try await js.deleteStream(dlq)
        await client.close()
    }

    @Test func messagesThatRanOutOfDeliveriesWhileUnansweredAreMovedFromTheAdvisory() async throws {
        let (client, js) = try await connectJetStream()
        // A client takes every message and never answers: with max deliver 1, each one runs
        // out of deliveries when its ack wait (10 s) ends, and the server announces it.
        let (stream2, _, dlq2, consumer2) = try await Self.setUp(js, count: 5, maxDeliver: 1, ackWait: .seconds(10))
        let taken = try await consumer2.fetch(5)            // delivered once, never answered
        #expect(taken.count == 5)
        let mover = Task {
            try await consumer2.run { _ in }
        }
        let letters = try await Self.deadLetters(js, dlq2, count: 5)
        mover.cancel()
        try await mover.value
        #expect(letters.map(\.string).sorted() == ["bad-0", "good-1", "good-2", "good-3", "good-4"].sorted())
        #expect(letters.allSatisfy { $0.headers?[JetStreamDeadLetterPolicy.reasonHeader] == "max-deliveries" })
        #expect(letters.allSatisfy { $0.headers?["Order-Id"] != nil }, "read back by sequence with its headers")
        #expect(try await js.streamInfo(stream2).state.messages == 0, "dropped from the work queue")
        try await js.deleteStream(stream2)
        try await js.deleteStream(dlq2)
        await client.close()
    }
}
