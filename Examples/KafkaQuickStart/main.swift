// The README's Kafka quick start, built by CI so it cannot rot.
// Run: swift run kafka-quickstart   (uses KAFKA_BROKERS, default localhost:9092)
import TributaryKafka

@main
struct KafkaQuickStart {
    static func main() async throws {
        // README: connect and create a topic
        let kafka = try await KafkaClient.connect()          // bootstrap from KAFKA_BROKERS
        defer { kafka.close() }
        let topic = "order-events-\(UInt16.random(in: 0...UInt16.max))"
        try await kafka.createTopic(KafkaNewTopic(name: topic, partitions: 6), ifNotExists: true)

        // README: produce
        var settings = KafkaProducerConfiguration()
        settings.acks = .all
        settings.compression = .lz4
        let producer = try kafka.makeProducer(settings)
        let placed = try await producer.send(topic: topic, key: "order-1001", value: #"{"status":"created"}"#,
                                             headers: [("source", Array("checkout".utf8))])
        print("acknowledged: \(placed)")                       // order-events-… [p] @ 0
        for index in 0..<100 {
            try await producer.produce(topic: topic, key: "order-\(index)", value: "event \(index)") { result in
                if case .failure(let error) = result { print("not delivered: \(error)") }
            }
        }
        try await producer.flush()                               // every record acknowledged or reported
        try await producer.close()

        // README: consume one partition
        let consumer = try kafka.makeConsumer()
        try await consumer.assign(topic: topic, partition: placed.partition, from: .earliest)
        for try await record in consumer.records {
            print("\(record): \(record.valueString ?? "null")")
            if record.offset == placed.offset { break }
        }
        let backlog = try await consumer.readToEnd(timeout: .seconds(30))  // the rest, up to the current end
        print("then \(backlog.count) more up to the end")
        consumer.close()

        // README: admin
        let described = try await kafka.describeTopic(topic)
        print("\(topic): \(described.partitionCount) partitions, leaders \(described.partitions.map(\.leader))")
        try await kafka.deleteTopics([topic])
    }
}
