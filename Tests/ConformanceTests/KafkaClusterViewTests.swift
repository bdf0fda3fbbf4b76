import Foundation
import Testing
import TributaryKafka
import TributaryKafkaProtocol
import TributaryTestSupport
import TributaryWire

/// The client against three brokers made from one private tansu (``KafkaClusterView``): partition
/// `p` leads on node `p % 3 + 1`, leaders move while records flow, a broker goes down and comes
/// back. The old leader of a moved partition answers NOT_LEADER_OR_FOLLOWER, so every move is
/// felt by the client, and the counts below say how often.
///
/// What the view does not do (see the README): it refuses group membership requests and
/// OffsetCommit away from the coordinator (NOT_COORDINATOR) but not OffsetFetch or transaction
/// requests, it has no OffsetForLeaderEpoch and sends no KIP-951 leader hints; DescribeCluster is
/// withdrawn from ApiVersions.
@Suite("Kafka through a three-broker view of one tansu", .serialized)
struct KafkaClusterViewTests {
    struct Setup {
        let tansu: TansuProcess
        let view: KafkaClusterView
        let client: KafkaClient

        func stop() {
            client.close()
            view.stop()
            tansu.stop()
        }
    }

    static func setUp() async throws -> Setup {
        let tansu = try await TansuProcess()
        let view: KafkaClusterView
        do { view = try KafkaClusterView(upstreamPort: tansu.port) } catch { tansu.stop(); throw error }
        do {
            let client = try await KafkaClient.connect(configuration(view))
            return Setup(tansu: tansu, view: view, client: client)
        } catch {
            view.stop()
            tansu.stop()
            throw error
        }
    }

    static func configuration(_ view: KafkaClusterView) throws -> KafkaClientConfiguration {
        var configuration = try KafkaClientConfiguration(bootstrapServers: view.bootstrapServers)
        configuration.requestTimeout = .seconds(10)
        configuration.retryBackoff = .milliseconds(20)
        configuration.retryBackoffMax = .milliseconds(300)
        configuration.connectTimeout = .seconds(2)
        configuration.operationTimeout = .seconds(60)
        return configuration
    }

    static let partitions: Int32 = 6
    static let total = 20_000

    static func value(_ index: Int) -> [UInt8] { Array("seq-\(index)-".utf8) + Array(repeating: UInt8(ascii: "."), count: 60) }
    static func index(of value: [UInt8]?) -> Int? {
        guard let value else { return nil }
        let parts = String(decoding: value, as: UTF8.self).split(separator: "-")
        return parts.count >= 2 ? Int(parts[1]) : nil
    }

    /// Every record of `topic` from offset 0, read until each partition is at its end.
    static func readBack(_ client: KafkaClient, topic: String, atLeast: Int, during: (@Sendable (Int) throws -> Void)? = nil) async throws -> [KafkaConsumerRecord] {
        var configuration = KafkaConsumerConfiguration()
        configuration.fetchMaxWait = .milliseconds(100)
        configuration.maxPartitionFetchBytes = 32 * 1024
        configuration.fetchMaxBytes = 96 * 1024
        let consumer = try client.makeConsumer(configuration)
        defer { consumer.close() }
        for partition in 0..<partitions { try await consumer.assign(topic: topic, partition: partition, from: .earliest) }
        var records: [KafkaConsumerRecord] = []
        let deadline = ContinuousClock.now + .seconds(180)
        while ContinuousClock.now < deadline {
            records += try await consumer.poll(maxRecords: 2000, timeout: .milliseconds(300))
            try during?(records.count)
            let done = (0..<partitions).allSatisfy { consumer.isAtEnd(topic: topic, partition: $0) }
            if done && records.count >= atLeast { break }
        }
        return records
    }

    /// Lost and duplicated indices of `0..<total` among `records`.
    static func count(_ records: [KafkaConsumerRecord], total: Int) -> (lost: Set<Int>, duplicates: Int) {
        let seen = records.compactMap { index(of: $0.value) }
        return (Set(0..<total).subtracting(seen), seen.count - Set(seen).count)
    }

    /// The leadership changes of the produce test, by record index: three moves, then node 2
    /// down and back.
    static func disturb(_ view: KafkaClusterView, topic: String, at index: Int) throws {
        switch index {
        case 3_000: view.move(topic: topic, partition: 0, to: 2)
        case 6_000: view.move(topic: topic, partition: 1, to: 3)
        case 9_000: view.move(topic: topic, partition: 2, to: 1)
        case 12_000: view.takeDown(2)
        case 16_000: try view.bringUp(2)
        default: break
        }
    }

    @Test func theClientSeesThreeBrokersAndLeadersWhereTheViewPutsThem() async throws {
        let setup = try await Self.setUp()
        defer { setup.stop() }
        let topic = "view-metadata"
        try await setup.client.createTopic(KafkaNewTopic(name: topic, partitions: Self.partitions))
        let described = try await setup.client.describeTopic(topic)
        #expect(described.partitions.map(\.leader) == (0..<Self.partitions).map { setup.view.leader(topic: topic, partition: $0) })
        #expect(Set(described.partitions.map(\.leader)) == [1, 2, 3])
        #expect(try await setup.client.metadata(topics: []).brokers.map(\.nodeID).sorted() == [1, 2, 3])

        // Node 3 down: it leaves the metadata, its partitions fail over, its port refuses.
        setup.view.takeDown(3)
        let port = try #require(setup.view.map.ports[3])
        let refused = await #expect(throws: (any Error).self) {
            _ = try await KafkaClient.connect(KafkaClientConfiguration(bootstrapServers: "127.0.0.1:\(port)"))
        }
        #expect(refused != nil)
        #expect(try await setup.client.metadata(topics: []).brokers.map(\.nodeID).sorted() == [1, 2])
        let failedOver = try await setup.client.describeTopic(topic)
        #expect(!failedOver.partitions.map(\.leader).contains(3), "leaders \(failedOver.partitions.map(\.leader))")
        try setup.view.bringUp(3)
        #expect(try await setup.client.metadata(topics: []).brokers.map(\.nodeID).sorted() == [1, 2, 3])
        #expect(try await setup.client.describeTopic(topic).partitions.map(\.leader) == described.partitions.map(\.leader))
        #expect(setup.view.failures.isEmpty, "\(setup.view.failures)")
    }

    @Test func theIdempotentProducerDeliversEverythingThroughMovesAndABrokerLoss() async throws {
        let setup = try await Self.setUp()
        defer { setup.stop() }
        let topic = "view-produce"
        try await setup.client.createTopic(KafkaNewTopic(name: topic, partitions: Self.partitions))
        _ = try await setup.client.describeTopic(topic)

        var configuration = KafkaProducerConfiguration()
        configuration.acks = .all
        configuration.idempotence = .automatic
        configuration.batchSize = 16 * 1024
        configuration.linger = .milliseconds(2)
        configuration.deliveryTimeout = .seconds(120)
        let producer = try setup.client.makeProducer(configuration)
        let outcome = DeliveryLedger()
        for index in 0..<Self.total {
            try Self.disturb(setup.view, topic: topic, at: index)
            try await producer.produce(topic: topic, key: Array("order-\(index % 40)".utf8), value: Self.value(index)) { outcome.record(index, $0) }
        }
        try await producer.flush()
        try await producer.close()
        let (acked, failures) = outcome.snapshot
        let statistics = producer.statistics
        #expect(failures.isEmpty, "failed deliveries: \(failures.prefix(3))")
        #expect(acked.count == Self.total)

        let records = try await Self.readBack(setup.client, topic: topic, atLeast: Self.total)
        let (lost, duplicates) = Self.count(records, total: Self.total)
        print("cluster view, idempotent producer: \(Self.total) records, 3 moves, node 2 down and up, \(setup.view.notLeaderAnswers) requests answered NOT_LEADER_OR_FOLLOWER, \(acked.count) acknowledged, \(lost.count) lost, \(duplicates) duplicates, \(statistics.retriedBatches) batches retried, connections per node \(setup.view.accepted.sorted { $0.key < $1.key })")
        #expect(setup.view.notLeaderAnswers > 0, "no request met a moved leader: the test did not test moves")
        #expect(lost.isEmpty, "\(lost.count) records are not in the log, e.g. \(lost.sorted().prefix(5))")
        #expect(duplicates == 0, "\(duplicates) duplicates from an idempotent producer")
        #expect(setup.view.failures.isEmpty, "\(setup.view.failures)")
        // The moves and the failover back are what the client's metadata says now.
        let described = try await setup.client.describeTopic(topic)
        #expect(described.partitions.map(\.leader) == (0..<Self.partitions).map { setup.view.leader(topic: topic, partition: $0) })
        #expect(Array(described.partitions.map(\.leader).prefix(3)) == [2, 3, 1])

        // Records of one key keep their order within their partition.
        var firstSeen: [String: [Int]] = [:]
        for record in records.sorted(by: { ($0.partition, $0.offset) < ($1.partition, $1.offset) }) {
            guard let index = Self.index(of: record.value) else { continue }
            firstSeen[String(decoding: record.key ?? [], as: UTF8.self), default: []].append(index)
        }
        for (key, indices) in firstSeen { #expect(indices == indices.sorted(), "records of \(key) are out of order") }
    }

    @Test func aConsumerFollowsTheLeaderWithoutAGap() async throws {
        let setup = try await Self.setUp()
        defer { setup.stop() }
        let topic = "view-consume"
        let total = 12_000
        try await setup.client.createTopic(KafkaNewTopic(name: topic, partitions: Self.partitions))
        let producer = try setup.client.makeProducer()
        for index in 0..<total {
            try await producer.produce(topic: topic, key: nil, value: Self.value(index), partition: Int32(index) % Self.partitions) { _ in }
        }
        try await producer.flush()
        try await producer.close()

        let view = setup.view
        let steps = Locked(0)
        let records = try await Self.readBack(setup.client, topic: topic, atLeast: total) { seen in
            // Move leaders and drop a node while the consumer is part way through.
            let step = steps.withLock { $0 }
            let thresholds = [1_000, 3_000, 5_000, 7_000, 9_000]
            guard step < thresholds.count, seen >= thresholds[step] else { return }
            steps.withLock { $0 += 1 }
            switch step {
            case 0: for p in Int32(0)..<Self.partitions { view.move(topic: topic, partition: p, to: (view.leader(topic: topic, partition: p) % 3) + 1) }
            case 1: view.takeDown(1)
            case 2: try view.bringUp(1)
            case 3: view.move(topic: topic, partition: 4, to: 1)
            default: view.takeDown(3)
            }
        }
        let (lost, duplicates) = Self.count(records, total: total)
        print("cluster view, consumer: \(total) records, \(steps.withLock { $0 }) disturbances, \(view.notLeaderAnswers) requests answered NOT_LEADER_OR_FOLLOWER, \(lost.count) lost, \(duplicates) repeated")
        #expect(steps.withLock { $0 } == 5, "the consumer finished before every disturbance")
        #expect(view.notLeaderAnswers > 0, "no fetch met a moved leader")
        for partition in Int32(0)..<Self.partitions {
            let offsets = records.filter { $0.partition == partition }.map(\.offset)
            #expect(offsets == Array(0..<Int64(offsets.count)), "partition \(partition): a gap or a repeat after a move")
        }
        #expect(lost.isEmpty && duplicates == 0, "\(lost.count) lost, \(duplicates) repeated")
        #expect(view.failures.isEmpty, "\(view.failures)")
    }

    @Test func aGroupReFindsItsCoordinatorWhenTheCoordinatorBrokerGoesDown() async throws {
        let setup = try await Self.setUp()
        defer { setup.stop() }
        let topic = "view-group"
        let group = "view-group-g"
        try await setup.client.createTopic(KafkaNewTopic(name: topic, partitions: Self.partitions))
        let producer = try setup.client.makeProducer()
        for index in 0..<300 { try await producer.produce(topic: topic, key: nil, value: Self.value(index), partition: Int32(index) % Self.partitions) { _ in } }
        try await producer.flush()

        setup.view.moveCoordinator(to: 2)
        var configuration = KafkaGroupConsumerConfiguration(groupID: group, topics: [topic])
        configuration.sessionTimeout = .seconds(6)
        configuration.rebalanceTimeout = .seconds(10)
        configuration.heartbeatInterval = .milliseconds(300)
        configuration.autoOffsetReset = .earliest
        configuration.fetch.fetchMaxWait = .milliseconds(100)
        let member = try setup.client.makeGroupConsumer(configuration)
        let seen = Locked<[Int]>([])
        let runner = Task {
            try await member.run { record in
                if let index = Self.index(of: record.value) { seen.withLock { $0.append(index) } }
            }
        }
        try await waitUntil(timeout: .seconds(60)) { seen.withLock { $0.count } >= 300 }
        let acceptedBefore = setup.view.accepted[3] ?? 0
        // The coordinator's broker goes down: FindCoordinator now names node 3.
        setup.view.takeDown(2)
        for index in 300..<600 { try await producer.produce(topic: topic, key: nil, value: Self.value(index), partition: Int32(index) % Self.partitions) { _ in } }
        try await producer.flush()
        try await waitUntil(timeout: .seconds(90)) { Set(seen.withLock { $0 }).count >= 600 }
        try setup.view.bringUp(2)
        // The coordinator moves to node 1 with every node up: node 3 answers NOT_COORDINATOR.
        let acceptedAtOne = setup.view.accepted[1] ?? 0
        setup.view.moveCoordinator(to: 1)
        try await waitUntil(timeout: .seconds(60)) { (setup.view.accepted[1] ?? 0) > acceptedAtOne && setup.view.notCoordinatorAnswers > 0 }
        for index in 600..<900 { try await producer.produce(topic: topic, key: nil, value: Self.value(index), partition: Int32(index) % Self.partitions) { _ in } }
        try await producer.flush()
        try await producer.close()
        try await waitUntil(timeout: .seconds(90)) { Set(seen.withLock { $0 }).count >= 900 }
        await member.close()
        let outcome = await runner.result
        if case .failure(let error) = outcome { Issue.record("the member stopped with \(error)") }
        let processed = seen.withLock { $0 }
        print("cluster view, group: \(processed.count) records processed, \(Set(processed).count) distinct, \(setup.view.notCoordinatorAnswers) requests answered NOT_COORDINATOR, connections per node \(setup.view.accepted.sorted { $0.key < $1.key })")
        #expect(Set(processed) == Set(0..<900))
        #expect((setup.view.accepted[3] ?? 0) > acceptedBefore, "nothing connected to node 3 after node 2 went down")
        let committed = try await setup.client.committedOffsets(group: group, topic: topic, partitions: Array(0..<Self.partitions))
        #expect(committed.values.reduce(0, +) == 900, "committed: \(committed)")
        #expect(setup.view.failures.isEmpty, "\(setup.view.failures)")
    }

    @Test func transactionsCommitAcrossLeadershipMovesAndTheCoordinatorsLoss() async throws {
        let setup = try await Self.setUp()
        defer { setup.stop() }
        let topic = "view-txn"
        try await setup.client.createTopic(KafkaNewTopic(name: topic, partitions: 3))
        var configuration = KafkaProducerConfiguration()
        configuration.transactionalID = "view-txn-id"
        configuration.transactionTimeout = .seconds(60)
        configuration.deliveryTimeout = .seconds(60)
        // The transaction coordinator is node 2; it goes down between transactions 1 and 2 (its
        // connection is cut and it leaves the metadata, so the producer must find node 3) and
        // comes back before transaction 4.
        setup.view.moveCoordinator(to: 2)
        let producer = try setup.client.makeProducer(configuration)
        try await producer.initTransactions()
        let perTransaction = 200
        for transaction in 0..<5 {
            if transaction == 2 {
                setup.view.takeDown(2)
                // Any metadata refresh now (another producer's, an admin call) drops node 2 from
                // the client's cache before the producer next needs its coordinator.
                #expect(try await setup.client.metadata(topics: []).brokers.map(\.nodeID) == [1, 3])
            }
            if transaction == 4 { try setup.view.bringUp(2) }
            try producer.beginTransaction()
            for offset in 0..<perTransaction {
                let index = transaction * perTransaction + offset
                if offset == perTransaction / 2 { setup.view.move(topic: topic, partition: Int32(transaction % 3), to: Int32((transaction + 1) % 3 + 1)) }
                try await producer.produce(topic: topic, key: nil, value: Self.value(index), partition: Int32(index % 3)) { _ in }
            }
            try await producer.commitTransaction()
        }
        try await producer.close()
        var consumerConfiguration = KafkaConsumerConfiguration()
        consumerConfiguration.fetchMaxWait = .milliseconds(100)
        let consumer = try setup.client.makeConsumer(consumerConfiguration)
        defer { consumer.close() }
        for partition in Int32(0)..<3 { try await consumer.assign(topic: topic, partition: partition, from: .earliest) }
        var records: [KafkaConsumerRecord] = []
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline, records.count < 5 * perTransaction || !(0..<3).allSatisfy({ consumer.isAtEnd(topic: topic, partition: $0) }) {
            records += try await consumer.poll(maxRecords: 1000, timeout: .milliseconds(300))
        }
        let (lost, duplicates) = Self.count(records, total: 5 * perTransaction)
        print("cluster view, transactions: 5 committed (coordinator node 2 down for 2 of them), \(records.count) records read, \(lost.count) lost, \(duplicates) duplicates, \(setup.view.notLeaderAnswers) requests answered NOT_LEADER_OR_FOLLOWER")
        #expect(setup.view.notLeaderAnswers > 0, "no request met a moved leader")
        #expect(lost.isEmpty && duplicates == 0, "\(lost.count) lost, \(duplicates) duplicates")
        #expect(setup.view.failures.isEmpty, "\(setup.view.failures)")
    }
}
