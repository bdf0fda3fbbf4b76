// The README's Kafka transactions snippet, built by the test command so it cannot rot.
// Run: swift run kafka-transactions   (uses KAFKA_BROKERS; reads "orders", writes "orders-enriched")
import TributaryKafka

/// Stands in for your processing.
func enrich(_ value: [UInt8]?) -> [UInt8] { (value ?? []) + Array(" (enriched)".utf8) }

// README: Kafka transactions
let kafka = try await KafkaClient.connect()                    // bootstrap from KAFKA_BROKERS
var settings = KafkaProducerConfiguration()
settings.transactionalID = "order-enricher-0"                  // transactional.id: one per instance
let producer = try kafka.makeProducer(settings)
try await producer.initTransactions()                          // fences older producers of this id

let member = try kafka.makeGroupConsumer(KafkaGroupConsumerConfiguration(groupID: "order-enricher", topics: ["orders"]))
for _ in 0..<10 {
    let records = try await member.poll(timeout: .seconds(1))
    guard !records.isEmpty else { continue }
    do throws(KafkaError) {
        try producer.beginTransaction()
        var next: [KafkaTopicPartition: Int64] = [:]
        for record in records {
            try await producer.produce(topic: "orders-enriched", key: record.key, value: enrich(record.value))
            next[KafkaTopicPartition(topic: record.topic, partition: record.partition)] = record.offset + 1
        }
        try await producer.sendOffsetsToTransaction(next, group: member.groupMetadata)
        try await producer.commitTransaction()                 // records and offsets, all or nothing
    } catch where error.code == .producerFenced {
        throw error                                            // a newer instance took over: stop
    } catch {
        try await producer.abortTransaction()                  // neither records nor offsets count
        print("transaction aborted: \(error.message)")         // the group re-reads from its committed offsets
        break
    }
}
await member.close()
try await producer.close()
kafka.close()
