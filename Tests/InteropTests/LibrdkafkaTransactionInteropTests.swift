import Foundation
import Testing
import TributaryKafka
import TributaryKafkaProtocol
import TributaryTestSupport

/// Transactions between Tributary and librdkafka 2.16 (confluent-kafka), both directions, on the
/// harness's broker. Each side writes, on partition 0: "c1" "c2" committed, "a1" "a2" aborted,
/// "c3" committed; every transaction ends with one control record (its marker), so the data
/// records sit at offsets 0, 1, 3, 4, 6.
///
/// tansu 0.6.0 never sends the aborted-transactions list in Fetch, so there a `read_committed`
/// reader (librdkafka's or ours) also sees "a1" and "a2"; against Kafka it sees only the
/// committed records. The tests expect the outcome of the broker they find (`KafkaBrokerProfile`).
@Suite("Kafka transactions interop with librdkafka", .serialized)
struct LibrdkafkaTransactionInteropTests {
    struct Entry: Codable, Equatable {
        var value: String
        var offset: Int64
    }

    static let everything = [Entry(value: "c1", offset: 0), Entry(value: "c2", offset: 1), Entry(value: "a1", offset: 3),
                             Entry(value: "a2", offset: 4), Entry(value: "c3", offset: 6)]
    static let committedOnly = everything.filter { $0.value.hasPrefix("c") }

    /// What a `read_committed` reader sees on the harness's broker.
    static func readCommittedOutcome() throws -> [Entry] {
        switch try KafkaBrokerProfile.current() {
        case .kafka: committedOnly
        case .tansu: everything
        }
    }

    private static func peer(_ arguments: [String]) throws -> ChildProcess {
        try pythonPeer("librdkafka_txn_peer.py", arguments)
    }

    private static func client() async throws -> (KafkaClient, String) {
        try await harnessKafkaClient()
    }

    private static func read(_ client: KafkaClient, topic: String, isolation: KafkaIsolationLevel) async throws -> [Entry] {
        var configuration = KafkaConsumerConfiguration()
        configuration.fetchMaxWait = .milliseconds(100)
        configuration.isolationLevel = isolation
        let consumer = try client.makeConsumer(configuration)
        defer { consumer.close() }
        try await consumer.assign(topic: topic, partition: 0, from: .earliest)
        let records = try await consumer.readToEnd(timeout: .seconds(20))
        return records.map { Entry(value: String(decoding: $0.value ?? [], as: UTF8.self), offset: $0.offset) }
    }

    @Test func tributaryReadsLibrdkafkasTransactions() async throws {
        let (client, brokers) = try await Self.client()
        defer { client.close() }
        let topic = "txn-from-rdk-\(UInt32.random(in: 0...UInt32.max))"
        try await client.createTopic(KafkaNewTopic(name: topic, partitions: 1))
        let peer = try Self.peer(["produce", brokers, topic, "rdk-\(topic)"])
        try peer.start()
        let result = await peer.finish(timeout: .seconds(90))
        #expect(result.status == 0, "peer: \(result.stderr)")
        let delivered = result.stdout.split(separator: "\n").compactMap { try? JSONDecoder().decode(Entry.self, from: Data($0.utf8)) }
        #expect(delivered == Self.everything)

        // Control records (the three markers) are never delivered.
        #expect(try await Self.read(client, topic: topic, isolation: .readUncommitted) == Self.everything)
        let committed = try await Self.read(client, topic: topic, isolation: .readCommitted)
        #expect(committed == (try Self.readCommittedOutcome()), "read_committed saw \(committed)")
        try await client.deleteTopics([topic])
    }

    @Test func librdkafkaReadsTributarysTransactions() async throws {
        let (client, brokers) = try await Self.client()
        defer { client.close() }
        let topic = "txn-to-rdk-\(UInt32.random(in: 0...UInt32.max))"
        try await client.createTopic(KafkaNewTopic(name: topic, partitions: 1))
        var configuration = KafkaProducerConfiguration()
        configuration.transactionalID = "tributary-\(topic)"
        let producer = try client.makeProducer(configuration)
        try await producer.initTransactions()
        var delivered: [Entry] = []
        for (values, commit) in [(["c1", "c2"], true), (["a1", "a2"], false), (["c3"], true)] {
            try producer.beginTransaction()
            for value in values {
                let metadata = try await producer.send(topic: topic, key: nil, value: Array(value.utf8), partition: 0)
                delivered.append(Entry(value: value, offset: metadata.offset))
            }
            if commit { try await producer.commitTransaction() } else { try await producer.abortTransaction() }
        }
        try await producer.close()
        #expect(delivered == Self.everything)

        for isolation in ["read_uncommitted", "read_committed"] {
            let peer = try Self.peer(["consume", brokers, topic, isolation, "3"])
            try peer.start()
            let result = await peer.finish(timeout: .seconds(60))
            #expect(result.status == 0, "peer: \(result.stderr)")
            let seen = result.stdout.split(separator: "\n").compactMap { try? JSONDecoder().decode(Entry.self, from: Data($0.utf8)) }
            if isolation == "read_uncommitted" {
                #expect(seen == Self.everything)
            } else {
                #expect(seen == (try Self.readCommittedOutcome()), "librdkafka read_committed saw \(seen)")
            }
        }
        try await client.deleteTopics([topic])
    }
}
