import Synchronization
import Testing
import TributaryBridge
import TributaryJetStream
import TributaryKafka
import TributaryKafkaProtocol
import TributaryNATS
import TributaryTestSupport

/// Each bridge route end to end against nats-server and the Kafka broker, with counts: keys and
/// partitions follow the mapping, headers survive, order per key holds, nothing is lost.
@Suite("NATS-Kafka bridge routes end to end", .serialized)
struct BridgeConformanceTests {
    typealias Locked = KafkaGroupConformanceTests.Locked

    static func groupSettings(_ configuration: inout KafkaGroupConsumerConfiguration) {
        configuration.sessionTimeout = .seconds(6)
        configuration.rebalanceTimeout = .seconds(10)
        configuration.heartbeatInterval = .milliseconds(500)
        configuration.autoOffsetReset = .earliest
        configuration.fetch.fetchMaxWait = .milliseconds(100)
    }

    /// Starts `bridge.run()` and waits until every route said it started.
    static func start(_ bridge: NATSKafkaBridge) async throws -> Task<Void, any Error> {
        let started = Locked(0)
        let events = bridge.events
        let watcher = Task {
            for await event in events {
                if case .routeStarted = event { started.withLock { $0 += 1 } }
            }
        }
        let running = Task { try await bridge.run() }
        try await waitUntil(timeout: .seconds(30), "routes started") { started.withLock { $0 } == bridge.routes.count }
        _ = watcher
        return running
    }

    static func text(_ bytes: [UInt8]?) -> String { String(decoding: bytes ?? [], as: UTF8.self) }

    @Test func natsSubjectToKafkaKeepsKeysHeadersAndOrderPerKey() async throws {
        let nats = try await connectShared()
        let publisher = try await connectShared()
        let kafka = try await connectKafka()
        defer { kafka.close() }
        let topic = uniqueTopic("bridge-n2k")
        try await kafka.createTopic(KafkaNewTopic(name: topic, partitions: 3))
        let prefix = "bridge\(UInt32.random(in: 0...UInt32.max))"
        let bridge = try NATSKafkaBridge(id: "test-bridge", nats: nats, kafka: kafka, routes: [
            BridgeRoute(name: "events", from: .natsSubject("\(prefix).>"), to: .kafkaTopic(topic), key: .subjectToken(2)),
        ])
        let running = try await Self.start(bridge)
        let total = 300
        for index in 0..<total {
            var headers = NATSHeaders()
            headers.append("t-\(index)", for: "Trace")
            headers.append("a", for: "Multi")
            headers.append("b", for: "Multi")
            try await publisher.publishWaiting(Array("\(index)".utf8), to: "\(prefix).order-\(index % 10).created", headers: headers)
        }
        try await publisher.flush()
        try await waitUntil(timeout: .seconds(60), "forwarded: \(bridge.statistics)") { bridge.statistics[0].forwarded == total }
        await bridge.drain()
        try await running.value
        let statistics = bridge.statistics[0]
        #expect(statistics.received == total && statistics.failed == 0 && statistics.dropped == 0 && statistics.inFlight == 0, "\(statistics)")

        let records = try await readAll(kafka, topic: topic, partitions: 3, count: total)
        #expect(records.count == total)
        var partitionOfKey: [String: Int32] = [:]
        var valuesOfKey: [String: [Int]] = [:]
        for record in records {
            let key = Self.text(record.key)
            #expect(key.hasPrefix("order-"), "the key is subject token 2")
            #expect(record.partition == Int32(KafkaPartitioner.partition(forKey: record.key ?? [], partitionCount: 3)),
                    "records are placed by the murmur2 hash of their key")
            if let known = partitionOfKey[key] { #expect(known == record.partition) }
            partitionOfKey[key] = record.partition
            valuesOfKey[key, default: []].append(Int(Self.text(record.value)) ?? -1)
            let index = Int(Self.text(record.value)) ?? -1
            #expect(record.headers.first { $0.key == "Trace" }.map { Self.text($0.value) } == "t-\(index)")
            #expect(record.headers.filter { $0.key == "Multi" }.map { Self.text($0.value) } == ["a", "b"])
            #expect(record.headers.first { $0.key == "NATS-Subject" }.map { Self.text($0.value) } == "\(prefix).order-\(index % 10).created")
            #expect(record.headers.first { $0.key == "Tributary-Bridge" }.map { Self.text($0.value) } == "test-bridge")
        }
        #expect(Set(partitionOfKey.values).count > 1, "ten keys spread over the partitions")
        for (key, values) in valuesOfKey {
            #expect(values == values.sorted(), "order kept for \(key)")
            #expect(values.count == 30)
        }
        await nats.close()
        await publisher.close()
    }

    @Test func kafkaToNATSCommitsAfterTheServerConfirmed() async throws {
        let nats = try await connectShared()
        let subscriberClient = try await connectShared()
        let kafka = try await connectKafka()
        defer { kafka.close() }
        let topic = uniqueTopic("bridge-k2n")
        try await kafka.createTopic(KafkaNewTopic(name: topic, partitions: 3))
        let prefix = "bridged\(UInt32.random(in: 0...UInt32.max))"
        let subscription = try subscriberClient.subscribe(to: "\(prefix).>")
        try await subscriberClient.flush()
        let producer = try kafka.makeProducer()
        let total = 200
        let binary: [UInt8] = [0, 0xFF, 10]
        for index in 0..<total {
            try await producer.produce(topic: topic, key: Array("order-\(index % 10)".utf8), value: Array("\(index)".utf8),
                                       headers: [("Trace", Array("t-\(index)".utf8)), ("Blob", binary)])
        }
        try await producer.close()
        let group = uniqueTopic("bridge-k2n-g")
        var route = BridgeRoute(name: "commands", from: .kafkaTopics([topic], group: group), to: .natsSubject("\(prefix).{key}"))
        route.configureGroup = Self.groupSettings
        route.concurrency = 3
        let bridge = try NATSKafkaBridge(nats: nats, kafka: kafka, routes: [route])
        let running = try await Self.start(bridge)
        var received: [NATSMessage] = []
        for try await message in subscription {
            received.append(message)
            if received.count == total { break }
        }
        try await waitUntil(timeout: .seconds(30), "forwarded: \(bridge.statistics)") { bridge.statistics[0].forwarded == total }
        await bridge.drain()
        try await running.value
        #expect(received.count == total)
        var valuesOfKey: [String: [Int]] = [:]
        for message in received {
            let index = Int(message.string) ?? -1
            let key = "order-\(index % 10)"
            #expect(message.subject == "\(prefix).\(key)")
            valuesOfKey[key, default: []].append(index)
            #expect(message.headers?["Trace"] == "t-\(index)")
            #expect(message.headers?["Kafka-Topic"] == topic)
            #expect(message.headers?["Kafka-Key"] == key)
            #expect(message.headers?["Tributary-Base64-Headers"] == "Blob")
            #expect(message.headers?["Blob"] == "AP8K", "binary header values arrive in base64")
            #expect(Int64(message.headers?["Kafka-Timestamp"] ?? "") ?? 0 > 0)
        }
        for (key, values) in valuesOfKey { #expect(values == values.sorted(), "order kept for \(key)") }
        // Offsets were committed for what was forwarded: a new member of the group starts at the end.
        let checker = try kafka.makeGroupConsumer({
            var configuration = KafkaGroupConsumerConfiguration(groupID: group, topics: [topic])
            Self.groupSettings(&configuration)
            return configuration
        }())
        let committed = try await checker.committed(topic: topic, partitions: [0, 1, 2])
        await checker.close()
        #expect(committed.values.reduce(0, +) == Int64(total), "committed \(committed)")
        await nats.close()
        await subscriberClient.close()
    }

    @Test func kafkaToJetStreamStoresEachRecordOnceEvenWhenReadTwice() async throws {
        let nats = try await connectShared()
        let kafka = try await connectKafka()
        defer { kafka.close() }
        let js = try JetStreamContext(client: nats)
        let topic = uniqueTopic("bridge-k2j")
        try await kafka.createTopic(KafkaNewTopic(name: topic, partitions: 2))
        let stream = "BRIDGE_\(UInt32.random(in: 0...UInt32.max))"
        let prefix = stream.lowercased()
        try await js.createStream(StreamConfig(name: stream, subjects: ["\(prefix).>"], storage: .memory))
        defer { Task { try? await js.deleteStream(stream) } }
        let producer = try kafka.makeProducer()
        let total = 100
        for index in 0..<total {
            try await producer.produce(topic: topic, key: Array("k\(index % 5)".utf8), value: Array("\(index)".utf8))
        }
        try await producer.close()
        // Two groups read the same records: the second pass republishes every one with the
        // same Nats-Msg-Id, and the stream keeps one copy of each.
        for pass in 0..<2 {
            var route = BridgeRoute(name: "to-js", from: .kafkaTopics([topic], group: uniqueTopic("bridge-k2j-g\(pass)")), to: .jetStreamSubject("\(prefix).{key}"))
            route.configureGroup = Self.groupSettings
            let bridge = try NATSKafkaBridge(nats: nats, kafka: kafka, routes: [route])
            let running = try await Self.start(bridge)
            try await waitUntil(timeout: .seconds(60), "pass \(pass) forwarded: \(bridge.statistics)") { bridge.statistics[0].forwarded == total }
            await bridge.drain()
            try await running.value
            #expect(try await js.streamInfo(stream).state.messages == UInt64(total), "pass \(pass)")
        }
        let last = try await js.getLastMessage(stream: stream, subject: "\(prefix).k0")
        #expect(last.headers?["Nats-Msg-Id"]?.hasPrefix("\(topic)/") == true)
        await nats.close()
    }

    @Test func jetStreamToKafkaAcksOnlyAfterKafkaAcknowledged() async throws {
        let nats = try await connectShared()
        let kafka = try await connectKafka()
        defer { kafka.close() }
        let js = try JetStreamContext(client: nats)
        let topic = uniqueTopic("bridge-j2k")
        try await kafka.createTopic(KafkaNewTopic(name: topic, partitions: 3))
        let stream = "BRIDGESRC_\(UInt32.random(in: 0...UInt32.max))"
        let prefix = stream.lowercased()
        try await js.createStream(StreamConfig(name: stream, subjects: ["\(prefix).>"], storage: .memory))
        defer { Task { try? await js.deleteStream(stream) } }
        _ = try await js.createConsumer(stream: stream, config: ConsumerConfig(durableName: "bridge", ackPolicy: .explicit))
        let total = 150
        for index in 0..<total {
            _ = try await js.publish("\(index)", to: "\(prefix).c\(index % 6).placed")
        }
        let bridge = try NATSKafkaBridge(nats: nats, kafka: kafka, routes: [
            BridgeRoute(name: "from-js", from: .jetStream(stream: stream, consumer: "bridge"), to: .kafkaTopic(topic), key: .subjectToken(2)),
        ])
        let running = try await Self.start(bridge)
        try await waitUntil(timeout: .seconds(60), "forwarded: \(bridge.statistics)") { bridge.statistics[0].forwarded == total }
        await bridge.drain()
        try await running.value
        let info = try await js.consumerInfo(stream: stream, name: "bridge")
        #expect(info.numAckPending == 0, "every message was acked")
        #expect(info.numPending == 0)
        let records = try await readAll(kafka, topic: topic, partitions: 3, count: total)
        #expect(records.count == total)
        #expect(Set(records.map { Self.text($0.value) }).count == total, "each once")
        var valuesOfKey: [String: [Int]] = [:]
        for record in records {
            valuesOfKey[Self.text(record.key), default: []].append(Int(Self.text(record.value)) ?? -1)
            #expect(record.timestamp > 1_600_000_000_000, "the JetStream timestamp is carried")
        }
        #expect(valuesOfKey.count == 6)
        for (key, values) in valuesOfKey { #expect(values == values.sorted(), "order kept for \(key)") }
        await nats.close()
    }

    @Test func routesInOppositeDirectionsDoNotEcho() async throws {
        let nats = try await connectShared()
        let watcherClient = try await connectShared()
        let kafka = try await connectKafka()
        defer { kafka.close() }
        let topic = uniqueTopic("bridge-loop")
        try await kafka.createTopic(KafkaNewTopic(name: topic, partitions: 1))
        let prefix = "loop\(UInt32.random(in: 0...UInt32.max))"
        let seen = Locked(0)
        let watch = try watcherClient.subscribe(to: "\(prefix).>")
        try await watcherClient.flush()
        let counting = Task { for try await _ in watch { seen.withLock { $0 += 1 } } }
        var back = BridgeRoute(name: "back", from: .kafkaTopics([topic], group: uniqueTopic("bridge-loop-g")), to: .natsSubject("\(prefix).{key}"))
        back.configureGroup = Self.groupSettings
        let bridge = try NATSKafkaBridge(nats: nats, kafka: kafka, routes: [
            BridgeRoute(name: "out", from: .natsSubject("\(prefix).>"), to: .kafkaTopic(topic), key: .subjectToken(2)),
            back,
        ])
        let running = try await Self.start(bridge)
        for index in 0..<20 { try await watcherClient.publishWaiting(Array("\(index)".utf8), to: "\(prefix).k\(index % 4)") }
        try await watcherClient.flush()
        try await waitUntil(timeout: .seconds(60), "statistics: \(bridge.statistics)") {
            bridge.statistics[0].forwarded == 20 && bridge.statistics[1].skipped == 20
        }
        await bridge.drain()
        try await running.value
        try await watcherClient.flush()
        let statistics = bridge.statistics
        #expect(statistics[1].forwarded == 0, "the way back forwarded nothing: \(statistics[1])")
        #expect(seen.withLock { $0 } == 20, "only the 20 originals were seen on NATS")
        counting.cancel()
        await nats.close()
        await watcherClient.close()
    }
}
