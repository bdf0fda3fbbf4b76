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

    @Test func producerTypesAreNameable() {
        var statistics = KafkaProducerStatistics()
        statistics.deliveredRecords = 3
        let idempotence: KafkaIdempotence = .enabled
        let group = KafkaConsumerGroupMetadata(groupID: "payments", generationID: 4, memberID: "m-1")
        let identity = KafkaProducerMachine.ProducerIdentity(id: 7, epoch: 1)
        #expect(statistics.deliveredRecords == 3 && statistics.producerID == nil)
        #expect("\(idempotence)" == "true" && group.generationID == 4 && "\(identity)" == "7/1")
    }

    @Test func rebalanceEventsPrintReadably() {
        let event = KafkaRebalanceEvent.assigned([KafkaTopicPartitions(topic: "orders", partitions: [0, 1]),
                                                  KafkaTopicPartitions(topic: "payments", partitions: [2])])
        #expect("\(event)" == "assigned orders [0, 1], payments [2]")
        #expect("\(KafkaRebalanceEvent.revoked([]))" == "revoked nothing")
        #expect(!"\(KafkaRebalanceEvent.lost([KafkaTopicPartitions(topic: "a", partitions: [0])]))".contains("TributaryKafkaProtocol"))
    }
}

@Suite("import TributaryKafka names the security and transport types")
struct ImportTributaryKafkaSecurityTests {
    @Test func securityAndStreamTypesAreNameable() {
        var configuration = KafkaClientConfiguration()
        configuration.securityProtocol = KafkaSecurityProtocol.saslPlaintext
        configuration.sasl = KafkaSASL.scramSHA512(username: "orders", password: "hunter2-secret")
        let factory: TransportStreamFactory = SocketStream.tcp
        configuration.streamFactory = factory
        let mechanism: KafkaSASL.Mechanism = .scramSHA256
        let scram: SCRAMClient.Mechanism = .sha512
        let error: SASLError = .serverSignatureMismatch
        let transport = TransportError(code: .closedByPeer, endpoint: "h:1", message: "x")
        let result: TCPSocket.IOResult = .wouldBlock
        let stream: (any TransportStream)? = nil
        #expect("\(mechanism)" == "SCRAM-SHA-256" && "\(scram)" == "SCRAM-SHA-512")
        #expect(!"\(error)".isEmpty && !"\(transport)".isEmpty && result == .wouldBlock && stream == nil)
        #expect(throws: SASLError.self) { try SASLPlain.initialResponse(username: "", password: "x") }
        #expect(throws: Never.self) { _ = try KafkaSASLExchange(.plain(username: "u", password: "p"), clientNonce: "n") }
    }
}
