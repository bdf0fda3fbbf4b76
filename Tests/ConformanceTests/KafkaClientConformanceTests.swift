import Foundation
import Synchronization
import Testing
import TributaryCompression
import TributaryKafka
import TributaryKafkaProtocol
import TributaryTestSupport

/// A client on the harness's broker (tansu, or KAFKA_BROKERS), with short timeouts. For your own
/// secured broker, librdkafka's property names as variables: `KAFKA_SECURITY_PROTOCOL`
/// (`SSL`, `SASL_SSL`, `SASL_PLAINTEXT`), `KAFKA_SSL_CA_LOCATION`, `KAFKA_SSL_CERTIFICATE_LOCATION`,
/// `KAFKA_SSL_KEY_LOCATION`, `KAFKA_SSL_KEY_PASSWORD`, `KAFKA_SASL_MECHANISM`,
/// `KAFKA_SASL_USERNAME` and `KAFKA_SASL_PASSWORD`.
func kafkaTestConfiguration(environment: [String: String]? = nil) throws -> KafkaClientConfiguration {
    func value(_ name: String) -> String? {
        (environment ?? ProcessInfo.processInfo.environment)[name].flatMap { $0.isEmpty ? nil : $0 }
    }
    let brokers: String
    if let environment {
        guard let given = environment["KAFKA_BROKERS"] else { throw BrokerEnvironmentError("KAFKA_BROKERS is not set") }
        brokers = given
    } else {
        brokers = try BrokerEnvironment.recorded("KAFKA_BROKERS")
    }
    var configuration = try KafkaClientConfiguration(bootstrapServers: brokers)
    if let name = value("KAFKA_SECURITY_PROTOCOL") {
        guard let security = KafkaSecurityProtocol(name: name) else {
            throw BrokerEnvironmentError("KAFKA_SECURITY_PROTOCOL '\(name)' is not PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL")
        }
        configuration.securityProtocol = security
        if security.usesTLS {
            configuration.tls = TLSConfiguration(trustRoots: value("KAFKA_SSL_CA_LOCATION").map { .caFile($0) } ?? .system,
                                                 certificateFile: value("KAFKA_SSL_CERTIFICATE_LOCATION"),
                                                 privateKeyFile: value("KAFKA_SSL_KEY_LOCATION"),
                                                 privateKeyPassword: value("KAFKA_SSL_KEY_PASSWORD"))
        }
        if security.usesSASL {
            guard let name = value("KAFKA_SASL_MECHANISM"), let mechanism = KafkaSASL.Mechanism(name: name),
                  let user = value("KAFKA_SASL_USERNAME"), let password = value("KAFKA_SASL_PASSWORD") else {
                throw BrokerEnvironmentError("KAFKA_SECURITY_PROTOCOL=\(name) needs KAFKA_SASL_MECHANISM (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512), KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD")
            }
            guard mechanism != .oauthBearer else {
                throw BrokerEnvironmentError("KAFKA_SASL_MECHANISM=OAUTHBEARER needs a token provider; the variables take PLAIN or SCRAM")
            }
            configuration.sasl = KafkaSASL(mechanism: mechanism, username: user, password: password)
        }
    }
    configuration.clientID = "tributary-conformance"
    configuration.connectTimeout = .seconds(5)
    configuration.requestTimeout = .seconds(15)
    configuration.operationTimeout = .seconds(30)
    return configuration
}

func connectKafka() async throws -> KafkaClient {
    try await KafkaClient.connect(try kafkaTestConfiguration())
}

/// A topic name no other test uses.
func uniqueTopic(_ prefix: String) -> String {
    "\(prefix)-\(UInt32.random(in: 0...UInt32.max))"
}

/// Reads `count` records from every partition of `topic` from offset 0, in partition order.
func readAll(_ client: KafkaClient, topic: String, partitions: Int32, count: Int, timeout: Duration = .seconds(30)) async throws -> [KafkaConsumerRecord] {
    var configuration = KafkaConsumerConfiguration()
    configuration.fetchMaxWait = .milliseconds(100)
    let consumer = try client.makeConsumer(configuration)
    defer { consumer.close() }
    for partition in 0..<partitions {
        try await consumer.assign(topic: topic, partition: partition, from: .earliest)
    }
    var records: [KafkaConsumerRecord] = []
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while records.count < count && ContinuousClock.now < deadline {
        records += try await consumer.poll(maxRecords: 10_000, timeout: .milliseconds(500))
    }
    return records.sorted { ($0.partition, $0.offset) < ($1.partition, $1.offset) }
}

@Suite("Kafka client against the broker", .serialized)
struct KafkaClientConformanceTests {
    @Test func connectNegotiatesAndListsBrokers() async throws {
        let client = try await connectKafka()
        defer { client.close() }
        let metadata = try await client.metadata(topics: [])
        #expect(!metadata.brokers.isEmpty)
        #expect(metadata.brokers.allSatisfy { $0.port > 0 && !$0.host.isEmpty })
    }

    @Test func createDescribeListAndDeleteTopic() async throws {
        let client = try await connectKafka()
        defer { client.close() }
        let topic = uniqueTopic("admin")
        try await client.createTopic(KafkaNewTopic(name: topic, partitions: 6, replicationFactor: 1, configs: ["retention.ms": "3600000"]))
        let configs = try await client.describeTopicConfigs(topic)
        #expect(configs["retention.ms"] == "3600000")
        let described = try await client.describeTopic(topic)
        #expect(described.partitionCount == 6)
        #expect(described.partitions.map(\.partition) == Array(0..<6))
        #expect(described.partitions.allSatisfy { $0.leader >= 0 && $0.replicas.contains($0.leader) })
        #expect(try await client.listTopics().contains(topic))

        // Creating it again is TOPIC_ALREADY_EXISTS, unless asked to tolerate it.
        let again = await #expect(throws: KafkaError.self) { try await client.createTopic(KafkaNewTopic(name: topic, partitions: 6)) }
        #expect(again?.brokerErrorCode == .topicAlreadyExists)
        try await client.createTopic(KafkaNewTopic(name: topic, partitions: 6), ifNotExists: true)

        try await client.deleteTopics([topic])
        let missing = await #expect(throws: KafkaError.self) { try await client.describeTopic(topic) }
        #expect(missing?.brokerErrorCode == .unknownTopicOrPartition)
    }

    @Test func unknownTopicIsATypedError() async throws {
        let client = try await connectKafka()
        defer { client.close() }
        let producer = try client.makeProducer()
        let error = await #expect(throws: KafkaError.self) {
            var configuration = KafkaProducerConfiguration()
            configuration.maxBlock = .seconds(1)
            let quick = try client.makeProducer(configuration)
            try await quick.send(topic: uniqueTopic("missing"), key: nil, value: [1])
        }
        #expect(error?.brokerErrorCode == .unknownTopicOrPartition)
        try await producer.close()
    }

    @Test func createPartitionsIsRefusedClearlyWhenTheBrokerLacksTheAPI() async throws {
        let client = try await connectKafka()
        defer { client.close() }
        let topic = uniqueTopic("grow")
        try await client.createTopic(KafkaNewTopic(name: topic, partitions: 1))
        defer { Task { try? await client.deleteTopics([topic]) } }
        switch try KafkaBrokerProfile.current() {
        case .kafka:
            try await client.createPartitions(topic: topic, totalCount: 3)
            #expect(try await client.describeTopic(topic).partitionCount == 3)
        case .tansu:
            // tansu 0.6 does not announce CreatePartitions (API 37); the error must say so.
            let error = await #expect(throws: KafkaError.self) { try await client.createPartitions(topic: topic, totalCount: 3) }
            #expect(error?.code == .unsupportedVersion)
            #expect(error?.api == .createPartitions)
            #expect(error?.message.contains("CreatePartitions") == true)
            #expect(error?.message.contains("no version at all") == true)
        }
    }

    @Test(arguments: [KafkaCompressionCodec.none, .gzip, .snappy, .lz4, .zstd], [KafkaAcks.none, .leader, .all])
    func produceAndConsumeBackIdentically(codec: KafkaCompressionCodec, acks: KafkaAcks) async throws {
        let client = try await connectKafka()
        defer { client.close() }
        let topic = uniqueTopic("roundtrip-\(codec)-\(acks)")
        try await client.createTopic(KafkaNewTopic(name: topic, partitions: 6))
        var configuration = KafkaProducerConfiguration()
        configuration.compression = codec
        configuration.acks = acks
        configuration.linger = .milliseconds(2)
        let producer = try client.makeProducer(configuration)
        let total = 600
        var sent: [(key: [UInt8]?, value: [UInt8]?, headers: [KafkaRecord.Header])] = []
        for index in 0..<total {
            let key: [UInt8]? = index % 10 == 0 ? nil : Array("order-\(index % 37)".utf8)
            let value: [UInt8]? = index % 50 == 7 ? nil : (index % 50 == 8 ? [] : Array("value \(index) ".utf8) + Array(repeating: UInt8(index % 251), count: index % 300))
            let headers: [KafkaRecord.Header] = index % 3 == 0 ? [("trace", Array("t\(index)".utf8)), ("trace", nil), ("empty", [])] : []
            sent.append((key, value, headers))
            try await producer.produce(topic: topic, key: key, value: value, headers: headers)
        }
        try await producer.flush()
        try await producer.close()
        #expect(producer.statistics.deliveredRecords == total)

        let records = try await readAll(client, topic: topic, partitions: 6, count: total)
        #expect(records.count == total)
        // Identical records: match by the value's index (values are unique or nil/empty with a unique key/index pattern).
        var remaining = sent.map { KafkaRecord(timestamp: 0, key: $0.key, value: $0.value, headers: $0.headers) }
        for record in records {
            let candidate = KafkaRecord(timestamp: 0, key: record.key, value: record.value, headers: record.headers)
            if let index = remaining.firstIndex(of: candidate) { remaining.remove(at: index) }
        }
        #expect(remaining.isEmpty, "\(remaining.count) records did not come back identically")
        // Offsets contiguous from 0 in every partition.
        for partition in Int32(0)..<6 {
            let offsets = records.filter { $0.partition == partition }.map(\.offset)
            #expect(offsets == Array(0..<Int64(offsets.count)), "partition \(partition) offsets are not contiguous")
        }
        // Keys land where murmur2 says, every time.
        for record in records {
            if let key = record.key {
                #expect(Int(record.partition) == KafkaPartitioner.partition(forKey: key, partitionCount: 6))
            }
        }
        try await client.deleteTopics([topic])
    }

    @Test func sendReturnsPartitionAndOffsetInKeyOrder() async throws {
        let client = try await connectKafka()
        defer { client.close() }
        let topic = uniqueTopic("send")
        try await client.createTopic(KafkaNewTopic(name: topic, partitions: 3))
        let producer = try client.makeProducer()
        var offsets: [Int32: [Int64]] = [:]
        for index in 0..<30 {
            let key = Array("customer-\(index % 4)".utf8)
            let metadata = try await producer.send(topic: topic, key: key, value: Array("\(index)".utf8))
            #expect(Int(metadata.partition) == KafkaPartitioner.partition(forKey: key, partitionCount: 3))
            offsets[metadata.partition, default: []].append(metadata.offset)
        }
        for (_, list) in offsets { #expect(list == Array(0..<Int64(list.count))) }
        try await producer.close()
        try await client.deleteTopics([topic])
    }

    @Test func consumerSeeksPausesAndResumes() async throws {
        let client = try await connectKafka()
        defer { client.close() }
        let topic = uniqueTopic("seek")
        try await client.createTopic(KafkaNewTopic(name: topic, partitions: 1))
        let producer = try client.makeProducer()
        for index in 0..<100 { try await producer.produce(topic: topic, key: nil, value: Array("\(index)".utf8), partition: 0) }
        try await producer.close()
        #expect(try await client.offset(topic: topic, partition: 0, .earliest) == 0)
        #expect(try await client.offset(topic: topic, partition: 0, .latest) == 100)

        var configuration = KafkaConsumerConfiguration()
        configuration.fetchMaxWait = .milliseconds(100)
        let consumer = try client.makeConsumer(configuration)
        defer { consumer.close() }
        try await consumer.assign(topic: topic, partition: 0, from: .offset(90))
        var seen: [Int64] = []
        for try await record in consumer.records {
            seen.append(record.offset)
            if seen.count == 10 { break }
        }
        #expect(seen == Array(90..<100))
        try await consumer.seek(topic: topic, partition: 0, to: .offset(5))
        let batch = try await consumer.poll(maxRecords: 3, timeout: .seconds(5))
        #expect(batch.map(\.offset) == [5, 6, 7])
        #expect(batch.map { String(decoding: $0.value ?? [], as: UTF8.self) } == ["5", "6", "7"])

        consumer.pause(topic: topic, partition: 0)
        try await consumer.seek(topic: topic, partition: 0, to: .latest)
        #expect(try await consumer.poll(timeout: .milliseconds(300)).isEmpty)
        consumer.resume(topic: topic, partition: 0)
        let late = try client.makeProducer()
        try await late.send(topic: topic, key: nil, value: Array("late".utf8), partition: 0)
        try await late.close()
        let after = try await consumer.poll(timeout: .seconds(5))
        #expect(after.map(\.offset) == [100])
        try await client.deleteTopics([topic])
    }

    @Test func outOfRangeOffsetsFollowTheResetPolicy() async throws {
        let client = try await connectKafka()
        defer { client.close() }
        let topic = uniqueTopic("reset")
        try await client.createTopic(KafkaNewTopic(name: topic, partitions: 1))
        let producer = try client.makeProducer()
        for index in 0..<5 { try await producer.produce(topic: topic, key: nil, value: Array("\(index)".utf8), partition: 0) }
        try await producer.close()

        var earliest = KafkaConsumerConfiguration()
        earliest.autoOffsetReset = .earliest
        earliest.fetchMaxWait = .milliseconds(100)
        let resetting = try client.makeConsumer(earliest)
        try await resetting.assign(topic: topic, partition: 0, from: .offset(1_000))
        let records = try await resetting.poll(maxRecords: 10, timeout: .seconds(10))
        #expect(records.first?.offset == 0)
        resetting.close()

        var strict = KafkaConsumerConfiguration()
        strict.autoOffsetReset = .none
        strict.fetchMaxWait = .milliseconds(100)
        let failing = try client.makeConsumer(strict)
        try await failing.assign(topic: topic, partition: 0, from: .offset(1_000))
        let error = await #expect(throws: KafkaError.self) { _ = try await failing.poll(timeout: .seconds(10)) }
        #expect(error?.code == .offsetOutOfRange)
        failing.close()
        try await client.deleteTopics([topic])
    }

    @Test func timestampLookupFindsTheFirstLaterRecord() async throws {
        let client = try await connectKafka()
        defer { client.close() }
        let topic = uniqueTopic("time")
        try await client.createTopic(KafkaNewTopic(name: topic, partitions: 1))
        let producer = try client.makeProducer()
        for index in 0..<10 {
            try await producer.send(topic: topic, key: nil, value: [UInt8(index)], partition: 0, timestamp: 1_700_000_000_000 + Int64(index) * 1000)
        }
        try await producer.close()
        // The consumer starts at the first record at or after the timestamp. Kafka answers the
        // ListOffsets timestamp lookup with that record's offset; tansu 0.6 with an earlier one,
        // and the consumer skips the older records.
        let lookedUp = try await client.offset(topic: topic, partition: 0, .timestamp(1_700_000_004_500))
        switch try KafkaBrokerProfile.current() {
        case .kafka: #expect(lookedUp == 5)
        case .tansu: #expect(lookedUp <= 5)
        }
        var configuration = KafkaConsumerConfiguration()
        configuration.fetchMaxWait = .milliseconds(100)
        let consumer = try client.makeConsumer(configuration)
        defer { consumer.close() }
        try await consumer.assign(topic: topic, partition: 0, from: .timestamp(1_700_000_004_500))
        let records = try await consumer.poll(maxRecords: 100, timeout: .seconds(5))
        #expect(records.first?.offset == 5)
        #expect(records.first?.timestamp == 1_700_000_005_000)
        try await client.deleteTopics([topic])
    }
}
