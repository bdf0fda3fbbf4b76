import Foundation
import Testing
import TributaryJetStream
import TributaryNATS
import TributaryTestSupport

@Suite("JetStream consumers against a real nats-server")
struct JetStreamConsumerConformanceTests {
    /// A stream with `count` messages on `<subject>.a` / `<subject>.b` alternately.
    static func filledStream(_ js: JetStreamContext, _ prefix: String, count: Int) async throws -> (name: String, subject: String) {
        let stream = uniqueStream(prefix)
        try await js.createStream(StreamConfig(name: stream.name, subjects: ["\(stream.subject).>"]))
        for index in 0..<count { try await js.publish("m\(index)", to: "\(stream.subject).\(index % 2 == 0 ? "a" : "b")") }
        return stream
    }

    @Test func durableCreateUpdateInfoListDelete() async throws {
        let (client, js) = try await connectJetStream()
        let (stream, subject) = try await Self.filledStream(js, "CONS", count: 4)
        var config = ConsumerConfig(durableName: "worker", deliverPolicy: .all, ackWait: .seconds(10), maxDeliver: 5,
                                    backoff: [.seconds(1), .seconds(2)], filterSubject: "\(subject).a", maxAckPending: 100)
        let consumer = try await js.createConsumer(stream: stream, config: config)
        #expect(consumer.name == "worker")
        let created = try #require(consumer.cachedInfo)
        #expect(created.config?.ackPolicy == .explicit, "explicit is the default for pull consumers")
        // With a backoff list the server takes the first delay as the ack wait (nats-server 2.15.1).
        #expect(created.config?.ackWait == .seconds(1))
        #expect(created.config?.backoff == [.seconds(1), .seconds(2)])
        #expect(created.numPending == 2, "two messages match the filter")

        // Same config again succeeds; a different one with create fails.
        _ = try await js.createConsumer(stream: stream, config: config)
        config.maxAckPending = 50
        let exists = await #expect(throws: JetStreamError.self) { try await js.createConsumer(stream: stream, config: config) }
        #expect(exists?.apiErrorCode == .consumerAlreadyExists)
        let updated = try await js.updateConsumer(stream: stream, config: config)
        #expect(updated.cachedInfo?.config?.maxAckPending == 50)
        let missingUpdate = await #expect(throws: JetStreamError.self) {
            try await js.updateConsumer(stream: stream, config: ConsumerConfig(durableName: "nobody"))
        }
        #expect(missingUpdate?.apiErrorCode == .consumerDoesNotExist)

        let info = try await consumer.info()
        #expect(info.stream == stream && info.name == "worker" && info.config?.maxAckPending == 50)
        let second = try await js.createConsumer(stream: stream, config: ConsumerConfig(name: "multi", filterSubjects: ["\(subject).a", "\(subject).b"]))
        #expect(second.cachedInfo?.numPending == 4)
        #expect(Set(try await js.consumerNames(stream: stream)) == ["worker", "multi"])
        #expect(Set(try await js.consumers(stream: stream).map(\.name)) == ["worker", "multi"])

        try await js.deleteConsumer(stream: stream, name: "worker")
        let gone = await #expect(throws: JetStreamError.self) { try await js.consumerInfo(stream: stream, name: "worker") }
        #expect(gone?.code == .consumerNotFound)
        let goneDelete = await #expect(throws: JetStreamError.self) { try await js.deleteConsumer(stream: stream, name: "worker") }
        #expect(goneDelete?.code == .consumerNotFound)
        let noStream = await #expect(throws: JetStreamError.self) {
            try await js.createConsumer(stream: uniqueStream("NOPE").name, config: ConsumerConfig(durableName: "x"))
        }
        #expect(noStream?.code == .streamNotFound)
        let badBackoff = await #expect(throws: JetStreamError.self) {
            try await js.createConsumer(stream: stream, config: ConsumerConfig(durableName: "bo", maxDeliver: 2, backoff: [.seconds(1), .seconds(2), .seconds(3)]))
        }
        #expect(badBackoff?.apiErrorCode == .consumerMaxDeliverBackoff)
        try await js.deleteStream(stream)
        await client.close()
    }

    @Test func ephemeralConsumerGetsAServerName() async throws {
        let (client, js) = try await connectJetStream()
        let (stream, _) = try await Self.filledStream(js, "EPH", count: 3)
        let consumer = try await js.createConsumer(stream: stream, config: ConsumerConfig(deliverPolicy: .last, inactiveThreshold: .seconds(30)))
        #expect(!consumer.name.isEmpty)
        #expect(consumer.cachedInfo?.config?.inactiveThreshold == .seconds(30))
        #expect(consumer.cachedInfo?.config?.durableName == nil)
        let batch = try await consumer.fetch(10, noWait: true)
        #expect(batch.map(\.string) == ["m2"], "deliver policy last starts at the last message")
        try await js.deleteStream(stream)
        await client.close()
    }

    @Test func fetchByMessagesBytesNoWaitAndExpiry() async throws {
        let (client, js) = try await connectJetStream()
        let (stream, subject) = try await Self.filledStream(js, "FETCH", count: 10)
        let consumer = try await js.createConsumer(stream: stream, config: ConsumerConfig(durableName: "f"))
        let first = try await consumer.fetch(4)
        #expect(first.map(\.string) == ["m0", "m1", "m2", "m3"])
        for message in first { try message.ack() }
        // Bytes: each message is small; 3 messages' worth of bytes yields fewer than the batch.
        let byBytes = try await consumer.fetch(100, maxBytes: 150, expires: .seconds(2))
        #expect(!byBytes.isEmpty && byBytes.count < 6)
        for message in byBytes { try message.ack() }
        let rest = try await consumer.fetch(100, expires: .milliseconds(500))
        #expect(rest.count == 6 - byBytes.count, "expiry ends a fetch with what arrived")
        for message in rest { try message.ack() }
        let none = try await consumer.fetch(5, noWait: true)
        #expect(none.isEmpty)
        let empty = try await consumer.fetch(5, expires: .milliseconds(200))
        #expect(empty.isEmpty)
        // Metadata from the reply subject.
        try await js.publish("late", to: "\(subject).a")
        let late = try await consumer.fetch(1)
        let metadata = try #require(late.first?.metadata)
        #expect(metadata.stream == stream && metadata.consumer == "f")
        #expect(metadata.streamSequence == 11 && metadata.deliveredCount == 1 && metadata.pending == 0)
        #expect(metadata.timestampNanoseconds > 1_600_000_000_000_000_000)
        try await late[0].doubleAck()
        let refused = await #expect(throws: JetStreamError.self) {
            let limited = try await js.createConsumer(stream: stream, config: ConsumerConfig(durableName: "limited", maxBatch: 2))
            _ = try await limited.fetch(5, expires: .seconds(1))
        }
        #expect(refused?.code == .pullRequestRefused)
        #expect(refused?.status == 409)
        try await js.deleteStream(stream)
        await client.close()
    }

    @Test func nakTermInProgressAndRedelivery() async throws {
        let (client, js) = try await connectJetStream()
        let (stream, _) = try await Self.filledStream(js, "ACKS", count: 3)
        let consumer = try await js.createConsumer(stream: stream, config: ConsumerConfig(durableName: "acks", ackWait: .seconds(30), maxDeliver: 3))
        let batch = try await consumer.fetch(3)
        #expect(batch.count == 3)
        try batch[0].nak()                     // redeliver now
        try batch[1].term(reason: "poison")    // never again
        try batch[2].inProgress()
        try batch[2].ack()
        let again = try await consumer.fetch(3, expires: .seconds(2))
        #expect(again.map(\.string) == ["m0"])
        #expect(again.first?.metadata?.deliveredCount == 2)
        try again[0].nak(delay: .milliseconds(200))
        let delayed = try await consumer.fetch(1, expires: .seconds(5))
        #expect(delayed.first?.metadata?.deliveredCount == 3)
        try await delayed[0].doubleAck()       // the server has processed it before info is asked
        let info = try await consumer.info()
        #expect(info.numAckPending == 0)
        #expect(info.numPending == 0)
        try await js.deleteStream(stream)
        await client.close()
    }

    @Test func continuousMessagesTopUpAndAck() async throws {
        let (client, js) = try await connectJetStream()
        let (stream, subject) = try await Self.filledStream(js, "CONT", count: 50)
        let consumer = try await js.createConsumer(stream: stream, config: ConsumerConfig(durableName: "c"))
        var options = JetStreamPullOptions()
        options.batch = 8                      // forces many top-ups for 100 messages
        options.expires = .seconds(2)
        options.idleHeartbeat = .milliseconds(500)
        let messages = try consumer.messages(options)
        let publisher = Task {
            for index in 50..<100 { try await js.publish("m\(index)", to: "\(subject).a") }
        }
        var received: [String] = []
        for try await message in messages {
            received.append(message.string)
            if received.count == 100 {
                try await message.doubleAck()   // confirmed, and after every earlier ack
                break
            }
            try message.ack()
        }
        try await publisher.value
        #expect(received == (0..<100).map { "m\($0)" })
        messages.stop()
        let info = try await consumer.info()
        #expect(info.numAckPending == 0)
        try await js.deleteStream(stream)
        await client.close()
    }

    @Test func continuousMessagesEndWhenTheConsumerIsDeleted() async throws {
        let (client, js) = try await connectJetStream()
        let (stream, _) = try await Self.filledStream(js, "DEL", count: 1)
        let consumer = try await js.createConsumer(stream: stream, config: ConsumerConfig(durableName: "d"))
        var options = JetStreamPullOptions()
        options.expires = .seconds(10)
        options.idleHeartbeat = .seconds(1)
        let messages = try consumer.messages(options)
        var iterator = messages.makeAsyncIterator()
        let first = try await iterator.next()
        #expect(first?.string == "m0")
        try await js.deleteConsumer(stream: stream, name: "d")
        let error = await #expect(throws: JetStreamError.self) { _ = try await iterator.next() }
        #expect(error?.code == .consumerDeleted)
        try await js.deleteStream(stream)
        await client.close()
    }
}
