// The README's JetStream quick start, built by CI so it cannot rot.
// Run: swift run jetstream-quickstart   (uses NATS_URL, default nats://127.0.0.1:4222; needs nats-server -js)
import TributaryJetStream
import TributaryNATS

/// Stands in for real work; throwing makes the run loop retry, then dead-letter.
func bill(_ payload: [UInt8]) async throws {
    if payload.isEmpty { throw JetStreamTerminate(reason: "empty order") }
}

@main
struct JetStreamQuickStart {
    static func main() async throws {
        // README: a stream and acknowledged publishing
        let nats = try await NATSClient.connect(NATSOptions())   // servers from NATS_URL
        let js = try JetStreamContext(client: nats)
        try await js.createStream(StreamConfig(name: "ORDERS", subjects: ["orders.>"], duplicateWindow: .seconds(120)))

        let ack = try await js.publish("order 1001", to: "orders.created",
                                       options: JetStreamPublishOptions(messageID: "order-1001"))
        print("stored in \(ack.stream) at sequence \(ack.sequence), duplicate: \(ack.isDuplicate)")

        // README: async publishing with a bounded window
        var handles: [JetStreamPublishHandle] = []
        for n in 1002...1011 {
            handles.append(try await js.publishAsync("order \(n)", to: "orders.created",
                                                     options: JetStreamPublishOptions(messageID: "order-\(n)")))
        }
        try await js.waitForPendingPublishes()
        print("async acks: \(handles.filter { (try? $0.result?.get()) != nil }.count) of \(handles.count)")

        // README: a durable pull consumer with acks
        let consumer = try await js.createOrUpdateConsumer(stream: "ORDERS", config: ConsumerConfig(
            durableName: "billing", ackWait: .seconds(30), maxDeliver: 5, filterSubject: "orders.created"))
        for message in try await consumer.fetch(10, expires: .seconds(2)) {
            print("\(message.subject): \(message.string), delivery \(message.metadata?.deliveredCount ?? 0)")
            try message.ack()
        }

        // README: one message at a time with ack-next
        var next = try await consumer.fetch(1, expires: .seconds(2)).first
        while let message = next {
            print("ack-next: \(message.string)")
            next = try await message.ackNext(expires: .seconds(1))   // acks, then waits for the next one
        }

        // README: continuous consumption
        let messages = try consumer.messages()
        let stopper = Task { try await Task.sleep(for: .seconds(1)); messages.stop() }
        for try await message in messages {
            try message.ack()
        }
        _ = await stopper.result

        // README: ordered replay
        let ordered = try js.orderedConsumer(stream: "ORDERS")
        for try await message in ordered {
            print("replay \(message.metadata?.streamSequence ?? 0): \(message.string)")
            if message.metadata?.pending == 0 { break }
        }
        ordered.stop()

        // README: a service loop with a dead-letter subject
        try await js.createStream(StreamConfig(name: "ORDERS_DLQ", subjects: ["DLQ.ORDERS.>"]))
        let service = Task {
            try await consumer.run(concurrency: 4, retry: JetStreamRetryPolicy(attempts: 5, backoff: .seconds(1)),
                                   deadLetter: JetStreamDeadLetterPolicy()) { message in   // DLQ.ORDERS.billing
                try await bill(message.payload)
            }
        }
        try await js.publish("order 1012", to: "orders.created")
        try await Task.sleep(for: .seconds(1))
        service.cancel()                     // handlers in flight finish first
        try await service.value

        await nats.close()
    }
}
