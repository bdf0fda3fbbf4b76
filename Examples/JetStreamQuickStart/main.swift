// The README's JetStream quick start, built by CI so it cannot rot.
// Run: swift run jetstream-quickstart   (uses NATS_URL, default nats://127.0.0.1:4222; needs nats-server -js)
import TributaryJetStream
import TributaryNATS

@main
struct JetStreamQuickStart {
    static func main() async throws {
        // README: a stream and acknowledged publishing
        let nats = try await NATSClient.connect(NATSOptions())
        let js = try JetStreamContext(client: nats)
        try await js.createStream(StreamConfig(name: "ORDERS", subjects: ["orders.>"], duplicateWindow: .seconds(120)))

        let ack = try await js.publish("order 1001", to: "orders.created",
                                       options: JetStreamPublishOptions(messageID: "order-1001"))
        print("stored in \(ack.stream) at sequence \(ack.sequence), duplicate: \(ack.isDuplicate)")

        await nats.close()
    }
}
