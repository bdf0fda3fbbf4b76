import Foundation
import Testing
import TributaryKafka
import TributaryTestSupport

/// librdkafka 2.16 as the control on the three-broker view of one private tansu: its idempotent
/// producer meets the same leadership moves and broker loss as Tributary's in
/// `KafkaClusterViewTests`, and the records are read back with Tributary's consumer.
@Suite("librdkafka through the three-broker view", .serialized)
struct LibrdkafkaClusterViewInteropTests {
    static let total = 20_000

    @Test func librdkafkasIdempotentProducerLosesNothingThroughMovesAndABrokerLoss() async throws {
        let tansu = try await TansuProcess()
        defer { tansu.stop() }
        let view = try KafkaClusterView(upstreamPort: tansu.port)
        defer { view.stop() }
        var configuration = try KafkaClientConfiguration(bootstrapServers: view.bootstrapServers)
        configuration.requestTimeout = .seconds(10)
        configuration.retryBackoff = .milliseconds(20)
        configuration.operationTimeout = .seconds(60)
        let client = try await KafkaClient.connect(configuration)
        defer { client.close() }
        let topic = "view-librdkafka"
        let partitions: Int32 = 6
        try await client.createTopic(KafkaNewTopic(name: topic, partitions: partitions))
        _ = try await client.describeTopic(topic)

        let pauses = [3_000, 6_000, 9_000, 12_000, 16_000]
        let peer = try pythonPeer("librdkafka_cluster_peer.py", ["produce", view.bootstrapServers, topic, "\(Self.total)", pauses.map(String.init).joined(separator: ",")])
        try peer.start()
        for pause in pauses {
            try await peer.waitForLine("pause \(pause)", timeout: .seconds(120))
            switch pause {
            case 3_000: view.move(topic: topic, partition: 0, to: 2)
            case 6_000: view.move(topic: topic, partition: 1, to: 3)
            case 9_000: view.move(topic: topic, partition: 2, to: 1)
            case 12_000: view.takeDown(2)
            default: try view.bringUp(2)
            }
            peer.input.fileHandleForWriting.write(Data("go\n".utf8))
        }
        let result = await peer.finish(timeout: .seconds(200))
        // tansu 0.6 deviation: an InitProducerId epoch bump (KIP-360) naming an epoch older
        // than the latest (as when it is sent again after its answer was lost with a cut
        // connection) is refused with PRODUCER_FENCED; Kafka gives a non-transactional producer
        // a new id.
        // librdkafka treats PRODUCER_FENCED as fatal and fails the records still queued.
        // Tributary's producer asks for a new id instead (KafkaClusterViewTests). When that
        // happens here, it is reported as a known issue, and the peer must still have reported
        // every record it did not deliver: lost records are exactly its failures.
        let summary = result.stdout.split(separator: "\n").last.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let reportedFailures = summary?["errors"] as? Int ?? 0
        let fencedByTansu = (summary?["first_error"] as? String)?.contains("PRODUCER_FENCED") == true
        if !fencedByTansu {
            #expect(result.status == 0, "librdkafka peer: \(result.stdout) \(result.stderr.suffix(2000))")
        }

        var consumerConfiguration = KafkaConsumerConfiguration()
        consumerConfiguration.fetchMaxWait = .milliseconds(100)
        let consumer = try client.makeConsumer(consumerConfiguration)
        defer { consumer.close() }
        for partition in 0..<partitions { try await consumer.assign(topic: topic, partition: partition, from: .earliest) }
        var seen: [Int] = []
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            let records = try await consumer.poll(maxRecords: 5000, timeout: .milliseconds(300))
            seen += records.compactMap { record in
                let parts = String(decoding: record.value ?? [], as: UTF8.self).split(separator: "-")
                return parts.count >= 2 ? Int(parts[1]) : nil
            }
            if seen.count >= Self.total, (0..<partitions).allSatisfy({ consumer.isAtEnd(topic: topic, partition: $0) }) { break }
        }
        let lost = Set(0..<Self.total).subtracting(seen)
        let duplicates = seen.count - Set(seen).count
        print("cluster view, librdkafka idempotent producer: \(Self.total) records, 3 moves, node 2 down and up, \(view.notLeaderAnswers) requests answered NOT_LEADER_OR_FOLLOWER, \(lost.count) lost, \(duplicates) duplicates; peer said \(result.stdout.split(separator: "\n").last ?? "")")
        #expect(view.notLeaderAnswers > 0, "librdkafka never met a moved leader")
        if fencedByTansu {
            #expect(lost.count == reportedFailures, "librdkafka reported \(reportedFailures) failures but \(lost.count) records are missing")
            withKnownIssue("tansu 0.6 fenced librdkafka's repeated epoch bump (PRODUCER_FENCED); librdkafka failed \(reportedFailures) records") {
                Issue.record("librdkafka peer: \(result.stdout)")
            }
        } else {
            #expect(lost.isEmpty, "\(lost.count) records lost, e.g. \(lost.sorted().prefix(5))")
        }
        #expect(duplicates == 0, "\(duplicates) duplicates")
        #expect(view.failures.isEmpty, "\(view.failures)")
    }
}
