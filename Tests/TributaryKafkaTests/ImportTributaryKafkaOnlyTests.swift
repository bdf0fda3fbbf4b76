// This file imports TributaryKafka alone: every type a user of the client touches must be
// nameable without importing the protocol or compression modules.
import Testing
import TributaryKafka

@Suite("import TributaryKafka names every type of its API")
struct ImportTributaryKafkaOnlyTests {
    @Test func protocolTypesAreReExported() {
        let header: KafkaRecord.Header = (key: "trace", value: Array("1".utf8))
        let record = KafkaRecord(timestamp: 0, key: nil, value: Array("v".utf8), headers: [header])
        #expect(record.headers.first?.key == "trace")
        let partition: KafkaTopicPartition = KafkaTopicPartition(topic: "orders", partition: 3)
        let partitions: KafkaTopicPartitions = KafkaTopicPartitions(topic: "orders", partitions: [0, 1])
        let codec: KafkaCompressionCodec = .zstd
        let code: KafkaErrorCode = .unknownTopicOrPartition
        let api: KafkaAPIKey = .produce
        let assignor: KafkaPartitionAssignor = .cooperativeSticky
        let timestampType: KafkaTimestampType = .logAppendTime
        #expect("\(partition)" == "orders [3]")
        #expect("\(partitions)" == "orders [0, 1]")
        #expect("\(assignor)" == "cooperative-sticky")
        #expect("\(timestampType)" == "LogAppendTime")
        #expect(!"\(codec)".isEmpty && !"\(code)".isEmpty && !"\(api)".isEmpty)
    }

    @Test func rebalanceEventsPrintReadably() {
        let event = KafkaRebalanceEvent.assigned([KafkaTopicPartitions(topic: "orders", partitions: [0, 1]),
                                                  KafkaTopicPartitions(topic: "payments", partitions: [2])])
        #expect("\(event)" == "assigned orders [0, 1], payments [2]")
        #expect("\(KafkaRebalanceEvent.revoked([]))" == "revoked nothing")
        #expect(!"\(KafkaRebalanceEvent.lost([KafkaTopicPartitions(topic: "a", partitions: [0])]))".contains("TributaryKafkaProtocol"))
    }
}
