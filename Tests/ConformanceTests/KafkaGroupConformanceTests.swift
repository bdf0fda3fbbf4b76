import Foundation
import Synchronization
import Testing
import TributaryKafka
import TributaryKafkaProtocol
import TributaryTestSupport

/// Consumer groups against the harness's broker. tansu holds a new group's first join for about
/// half the session timeout, so the tests use a short one.
@Suite("Kafka consumer groups against the broker", .serialized)
struct KafkaGroupConformanceTests {
    static func groupConfiguration(_ group: String, _ topic: String, assignor: KafkaPartitionAssignor = .cooperativeSticky) -> KafkaGroupConsumerConfiguration {
        var configuration = KafkaGroupConsumerConfiguration(groupID: group, topics: [topic])
        configuration.sessionTimeout = .seconds(6)
        configuration.rebalanceTimeout = .seconds(10)
        configuration.heartbeatInterval = .milliseconds(500)
        configuration.autoOffsetReset = .earliest
        configuration.assignors = [assignor]
        configuration.fetch.fetchMaxWait = .milliseconds(100)
        return configuration
    }

    static func produce(_ client: KafkaClient, topic: String, range: Range<Int>) async throws {
        let producer = try client.makeProducer()
        for index in range {
            try await producer.produce(topic: topic, key: Array("order-\(index % 17)".utf8), value: Array("\(index)".utf8))
        }
        try await producer.close()
    }

    @Test func oneMemberProcessesEverythingAndCommitsForTheNext() async throws {
        let client = try await connectKafka()
        defer { client.close() }
        let topic = uniqueTopic("group-one")
        let group = uniqueTopic("group-one-g")
        try await client.createTopic(KafkaNewTopic(name: topic, partitions: 6))
        try await Self.produce(client, topic: topic, range: 0..<120)

        let seen = Mutex<[Int]>([])
        let member = try client.makeGroupConsumer(Self.groupConfiguration(group, topic))
        let runner = Task {
            try await member.run { record in
                seen.withLock { $0.append(Int(String(decoding: record.value ?? [], as: UTF8.self))!) }
            }
        }
        try await waitUntil(timeout: .seconds(30)) { seen.withLock { $0.count } >= 120 }
        #expect(Set(seen.withLock { $0 }) == Set(0..<120))
        #expect(member.assignment.flatMap(\.partitions).count == 6)
        await member.close()
        _ = try? await runner.value
        let committed = try await member.committed(topic: topic, partitions: Array(0..<6))
        #expect(committed.values.reduce(0, +) == 120, "committed offsets: \(committed)")

        // A new member of the same group starts where the first stopped.
        try await Self.produce(client, topic: topic, range: 120..<130)
        let later = Mutex<[Int]>([])
        let second = try client.makeGroupConsumer(Self.groupConfiguration(group, topic))
        let secondRunner = Task {
            try await second.run { record in
                later.withLock { $0.append(Int(String(decoding: record.value ?? [], as: UTF8.self))!) }
            }
        }
        try await waitUntil(timeout: .seconds(30)) { later.withLock { $0.count } >= 10 }
        try await Task.sleep(for: .milliseconds(500))
        #expect(Set(later.withLock { $0 }) == Set(120..<130))
        await second.close()
        _ = try? await secondRunner.value
        try await client.deleteTopics([topic])
    }

    @Test func failingRecordsGoToTheDeadLetterTopic() async throws {
        let client = try await connectKafka()
        defer { client.close() }
        let topic = uniqueTopic("group-dlq")
        try await client.createTopic(KafkaNewTopic(name: topic, partitions: 3))
        try await Self.produce(client, topic: topic, range: 0..<60)
        let poison: Set<Int> = [7, 21, 42]
        let processed = Mutex<Set<Int>>([])
        let member = try client.makeGroupConsumer(Self.groupConfiguration(uniqueTopic("group-dlq-g"), topic))
        let runner = Task {
            try await member.run(retry: KafkaRetryPolicy(attempts: 2, backoff: .milliseconds(10))) { record in
                let value = Int(String(decoding: record.value ?? [], as: UTF8.self))!
                struct Poison: Error, CustomStringConvertible { let value: Int; var description: String { "poison order \(value)" } }
                if poison.contains(value) { throw Poison(value: value) }
                processed.withLock { _ = $0.insert(value) }
            }
        }
        try await waitUntil(timeout: .seconds(30)) { processed.withLock { $0.count } >= 57 }
        await member.close()
        _ = try? await runner.value
        #expect(processed.withLock { $0 } == Set(0..<60).subtracting(poison))

        let dead = try await readAll(client, topic: topic + ".DLQ", partitions: 3, count: 3, timeout: .seconds(15))
        #expect(Set(dead.map { Int(String(decoding: $0.value ?? [], as: UTF8.self))! }) == poison)
        for record in dead {
            let headers = Dictionary(record.headers.map { ($0.key, String(decoding: $0.value ?? [], as: UTF8.self)) }, uniquingKeysWith: { a, _ in a })
            #expect(headers[KafkaDeadLetterPolicy.topicHeader] == topic)
            #expect(headers[KafkaDeadLetterPolicy.errorHeader]?.contains("poison order") == true)
            #expect(headers[KafkaDeadLetterPolicy.partitionHeader].flatMap { Int32($0) } != nil)
            #expect(headers[KafkaDeadLetterPolicy.offsetHeader].flatMap { Int64($0) } != nil)
        }
        try await client.deleteTopics([topic, topic + ".DLQ"])
    }
}

func waitUntil(timeout: Duration, _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("condition not met within \(timeout)")
            return
        }
        try await Task.sleep(for: .milliseconds(50))
    }
}
