import Foundation
import Testing
import TributaryKafka
import TributaryTestSupport

/// What a newcomer meets first: payload conveniences, reading to the end, a missing topic and a
/// wrong port.
@Suite("Kafka client usability against the broker", .serialized)
struct KafkaClientUsabilityConformanceTests {
    struct Order: Codable, Equatable {
        var id: String
        var cents: Int
    }

    @Test func textDataAndJSONPayloadsRoundTripAndReadToEndStopsAtTheEnd() async throws {
        let client = try await connectKafka()
        defer { client.close() }
        let topic = uniqueTopic("payloads")
        try await client.createTopic(KafkaNewTopic(name: topic, partitions: 2))
        let producer = try client.makeProducer()
        try await producer.send(topic: topic, key: "o-1", value: "plain text", partition: 0)
        try await producer.send(topic: topic, key: Data([1, 2]), value: Data([0, 255, 10]), partition: 1)
        try await producer.send(topic: topic, key: "o-2", value: KafkaJSON(Order(id: "o-2", cents: 250)), partition: 0)
        try await producer.produce(topic: topic, key: nil, value: "produced", partition: 1)
        try await producer.flush()

        let consumer = try client.makeConsumer()
        defer { consumer.close() }
        try await consumer.assign(topic: topic, partition: 0, from: .earliest)
        try await consumer.assign(topic: topic, partition: 1, from: .earliest)
        let first = try await consumer.readToEnd(timeout: .seconds(30))
        #expect(first.count == 4)
        let byPartition = Dictionary(grouping: first, by: \.partition)
        #expect(byPartition[0]?.map(\.keyString) == ["o-1", "o-2"])
        #expect(byPartition[0]?.first?.valueString == "plain text")
        #expect(try byPartition[0]?.last?.decode(Order.self) == Order(id: "o-2", cents: 250))
        #expect(byPartition[1]?.first?.valueData == Data([0, 255, 10]))
        #expect(byPartition[1]?.last?.key == nil)
        #expect(byPartition[1]?.last?.valueString == "produced")

        // Only what was produced after the first read, and nothing when nothing is new.
        try await producer.send(topic: topic, key: "o-3", value: "later", partition: 1)
        let second = try await consumer.readToEnd(timeout: .seconds(30))
        #expect(second.map(\.valueString) == ["later"])
        #expect(try await consumer.readToEnd(timeout: .seconds(30)).isEmpty)
        try await producer.close()
        try await client.deleteTopics([topic])
    }

    /// Without auto-creation a send to a missing topic fails after the second metadata answer,
    /// not after `maxBlock` (set to 10 minutes here: the time limit catches a silent wait).
    @Test(.timeLimit(.minutes(1))) func aMissingTopicFailsFastWithUnknownTopic() async throws {
        let client = try await connectKafka()
        defer { client.close() }
        var settings = KafkaProducerConfiguration()
        settings.maxBlock = .seconds(600)
        let producer = try client.makeProducer(settings)
        let topic = uniqueTopic("missing")
        await #expect {
            try await producer.send(topic: topic, key: nil, value: "x")
        } throws: { error in
            guard let error = error as? KafkaError else { return false }
            return error.brokerErrorCode == .unknownTopicOrPartition && !error.isRetriable
                && error.message.contains("allowAutoTopicCreation") && error.topic == topic
        }
        #expect(try await !client.listTopics().contains(topic))
        try await producer.close()
    }

    @Test func withAutoCreationAllowedTheBrokerCreatesTheTopic() async throws {
        var configuration = try kafkaTestConfiguration()
        configuration.allowAutoTopicCreation = true
        let client = try await KafkaClient.connect(configuration)
        defer { client.close() }
        let producer = try client.makeProducer()
        let topic = uniqueTopic("auto")
        let landed = try await producer.send(topic: topic, key: nil, value: "created on first use")
        #expect(landed.offset == 0)
        #expect(try await client.listTopics().contains(topic))
        try await producer.close()
        try await client.deleteTopics([topic])
    }

    @Test func aPortThatIsNotKafkaIsNamedAsSuch() async throws {
        let server = try FakeNATSServer { connection, _ in
            connection.send(#"INFO {"server_id":"FAKE","version":"2.15.1"}"# + "\r\n")
            _ = connection.waitForClose()
        }
        defer { server.stop() }
        var configuration = try KafkaClientConfiguration(bootstrapServers: "127.0.0.1:\(server.port)")
        configuration.connectTimeout = .seconds(5)
        configuration.operationTimeout = .seconds(2)
        await #expect {
            _ = try await KafkaClient.connect(configuration)
        } throws: { error in
            let text = "\(error)"
            return text.contains("is not a Kafka broker (it sent \"INFO {\\\"server_id\\\"") && !text.contains("ByteReader")
                && text.contains("bootstrapServers")
        }
    }
}
