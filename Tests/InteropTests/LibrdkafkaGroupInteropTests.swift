import Foundation
import Synchronization
import Testing
import TributaryKafka
import TributaryKafkaProtocol
import TributaryTestSupport

/// Consumer groups with a Tributary member and a librdkafka (confluent-kafka 2.16) member.
@Suite("Kafka consumer groups with librdkafka", .serialized)
struct LibrdkafkaGroupInteropTests {
    private static func peer(_ arguments: [String]) throws -> ChildProcess {
        let script = BrokerEnvironment.repoRoot().appendingPathComponent("Tests/InteropTests/peers/librdkafka_peer.py").path
        return ChildProcess(try BrokerEnvironment.pythonExecutable(), [script] + arguments)
    }

    private static func setUp(partitions: Int32, records: Int) async throws -> (KafkaClient, String, String) {
        let brokers = try BrokerEnvironment.recorded("KAFKA_BROKERS")
        let client = try await KafkaClient.connect(try KafkaClientConfiguration(bootstrapServers: brokers))
        let topic = "interop-group-\(UInt32.random(in: 0...UInt32.max))"
        try await client.createTopic(KafkaNewTopic(name: topic, partitions: partitions))
        let producer = try client.makeProducer()
        for index in 0..<records {
            try await producer.produce(topic: topic, key: Array("order-\(index)".utf8), value: Array("\(index)".utf8))
        }
        try await producer.close()
        return (client, brokers, topic)
    }

    private static func configuration(_ group: String, _ topic: String) -> KafkaGroupConsumerConfiguration {
        var configuration = KafkaGroupConsumerConfiguration(groupID: group, topics: [topic])
        configuration.sessionTimeout = .seconds(6)
        configuration.rebalanceTimeout = .seconds(10)
        configuration.heartbeatInterval = .milliseconds(500)
        configuration.autoOffsetReset = .earliest
        configuration.assignors = [.range]
        configuration.fetch.fetchMaxWait = .milliseconds(100)
        return configuration
    }

    @Test func mixedGroupSplitsPartitionsWithoutOverlap() async throws {
        let (client, brokers, topic) = try await Self.setUp(partitions: 6, records: 60)
        defer { client.close() }
        let group = "mixed-\(UInt32.random(in: 0...UInt32.max))"
        let peer = try Self.peer(["group", brokers, group, topic, "range", "30"])
        try peer.start()

        let member = try client.makeGroupConsumer(Self.configuration(group, topic))
        // Wait until the group settled with both members: ours holds a strict, stable subset.
        var stableSince: ContinuousClock.Instant?
        var last: Set<Int32> = []
        let deadline = ContinuousClock.now + .seconds(25)
        while ContinuousClock.now < deadline {
            _ = try await member.poll(timeout: .milliseconds(200))
            let now = Set(member.assignment.flatMap(\.partitions))
            if now != last { last = now; stableSince = ContinuousClock.now }
            if !now.isEmpty, now.count < 6, let since = stableSince, ContinuousClock.now - since > .seconds(3) { break }
        }
        let ours = Set(member.assignment.flatMap(\.partitions))
        let result = await peer.finish(timeout: .seconds(40))
        await member.close()
        #expect(result.status == 0, "peer: \(result.stderr)")
        struct Assigned: Codable { var assigned: [Int32] }
        let theirs = result.stdout.split(separator: "\n").compactMap { try? JSONDecoder().decode(Assigned.self, from: Data($0.utf8)) }.last?.assigned ?? []
        #expect(ours.count == 3, "ours: \(ours), theirs: \(theirs)")
        #expect(Set(theirs).isDisjoint(with: ours), "ours: \(ours), theirs: \(theirs)")
        #expect(Set(theirs).union(ours) == Set(0..<6), "ours: \(ours), theirs: \(theirs)")
        try await client.deleteTopics([topic])
    }

    @Test func committedOffsetsAgreeBothWays() async throws {
        let (client, brokers, topic) = try await Self.setUp(partitions: 3, records: 30)
        defer { client.close() }

        // Tributary commits; librdkafka's committed() returns the same.
        let ours = "commits-ours-\(UInt32.random(in: 0...UInt32.max))"
        let member = try client.makeGroupConsumer(Self.configuration(ours, topic))
        var read = 0
        let deadline = ContinuousClock.now + .seconds(30)
        while read < 30 && ContinuousClock.now < deadline {
            for record in try await member.poll(timeout: .milliseconds(200)) {
                member.markProcessed(record)
                read += 1
            }
        }
        try await member.commit()
        await member.close()
        let expected = try await client.committedOffsets(group: ours, topic: topic, partitions: [0, 1, 2])
        #expect(expected.values.reduce(0, +) == 30, "\(expected)")
        let check = try Self.peer(["committed", brokers, ours, topic, "3"])
        try check.start()
        let checked = await check.finish(timeout: .seconds(30))
        #expect(checked.status == 0, "peer: \(checked.stderr)")
        let theirs = try JSONDecoder().decode([String: Int64].self, from: Data(checked.stdout.utf8))
        for partition in Int32(0)..<3 {
            #expect(theirs["\(partition)"] == expected[partition], "partition \(partition): librdkafka sees \(theirs["\(partition)"] ?? -1), Tributary committed \(expected[partition] ?? -1)")
        }

        // librdkafka commits; Tributary reads the same, and a member of that group starts there.
        let theirsGroup = "commits-theirs-\(UInt32.random(in: 0...UInt32.max))"
        let commit = try Self.peer(["commit", brokers, theirsGroup, topic, "0:3,1:5,2:7"])
        try commit.start()
        let committed = await commit.finish(timeout: .seconds(30))
        #expect(committed.status == 0, "peer: \(committed.stderr)")
        #expect(try await client.committedOffsets(group: theirsGroup, topic: topic, partitions: [0, 1, 2]) == [0: 3, 1: 5, 2: 7])
        let follower = try client.makeGroupConsumer(Self.configuration(theirsGroup, topic))
        var firsts: [Int32: Int64] = [:]
        let until = ContinuousClock.now + .seconds(30)
        while firsts.count < 3 && ContinuousClock.now < until {
            for record in try await follower.poll(timeout: .milliseconds(200)) where firsts[record.partition] == nil {
                firsts[record.partition] = record.offset
            }
        }
        await follower.close()
        #expect(firsts == [0: 3, 1: 5, 2: 7])
        try await client.deleteTopics([topic])
    }
}
