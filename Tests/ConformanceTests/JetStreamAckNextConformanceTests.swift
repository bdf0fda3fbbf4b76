import Testing
import TributaryJetStream
import TributaryNATS
import TributaryTestSupport

@Suite("JetStream ack-next (+NXT) against a real nats-server")
struct JetStreamAckNextConformanceTests {
    @Test func ackNextWalksTheConsumerAndNothingIsRedelivered() async throws {
        let (client, js) = try await connectJetStream()
        let (stream, subject) = try await JetStreamConsumerConformanceTests.filledStream(js, "ACKNXT", count: 3)
        let consumer = try await js.createConsumer(stream: stream, config: ConsumerConfig(durableName: "walker", ackWait: .seconds(1)))

        let first = try #require(try await consumer.fetch(1, expires: .seconds(5)).first)
        #expect(first.string == "m0")
        let second = try #require(try await first.ackNext(expires: .seconds(5)))
        #expect(second.string == "m1")
        #expect(second.metadata?.streamSequence == 2 && second.metadata?.deliveredCount == 1)
        let third = try #require(try await second.ackNext(expires: .seconds(5)))
        #expect(third.string == "m2" && third.subject == "\(subject).a")
        // Nothing left: the request ends with 408 at its expiry and ackNext returns nil, but the ack stands.
        let none = try await third.ackNext(expires: .milliseconds(300))
        #expect(none == nil)

        let info = try await consumer.info()
        #expect(info.numAckPending == 0, "every message was acknowledged by +NXT")
        #expect(info.ackFloor.streamSequence == 3)
        // Past the 1 s ack wait an unacknowledged message would be redelivered; none is.
        try await Task.sleep(for: .milliseconds(1_500))
        let redelivered = try await consumer.fetch(10, noWait: true)
        #expect(redelivered.isEmpty, "acked messages came back: \(redelivered.map(\.string))")
        #expect(try await consumer.info().numRedelivered == 0)
        try await js.deleteStream(stream)
        await client.close()
    }

    @Test func ackNextIntoOwnInboxDeliversTheRequestedBatch() async throws {
        let (client, js) = try await connectJetStream()
        let (stream, _) = try await JetStreamConsumerConformanceTests.filledStream(js, "ACKNXTB", count: 4)
        let consumer = try await js.createConsumer(stream: stream, config: ConsumerConfig(durableName: "batcher"))
        let first = try #require(try await consumer.fetch(1, expires: .seconds(5)).first)

        let inbox = client.newInbox()
        let subscription = try client.subscribe(to: inbox)
        try subscription.unsubscribe(after: 2)
        try first.ackNext(deliverTo: inbox, batch: 2, expires: .seconds(5))
        var received: [String] = []
        for try await message in subscription { received.append(message.string) }
        #expect(received == ["m1", "m2"])
        #expect(try await consumer.info().ackFloor.streamSequence == 1, "the first message is acknowledged")

        let invalid = #expect(throws: JetStreamError.self) { try first.ackNext(deliverTo: inbox, batch: 0) }
        #expect(invalid?.code == .invalidArgument)
        try await js.deleteStream(stream)
        await client.close()
    }
}
