import Foundation
import Testing
import TributaryJetStream
import TributaryKafka
import TributaryNATS
import TributaryTestSupport

/// `tributary-bridge` as a process: the plan, a bad file, `--once`, and a SIGKILL mid-flow
/// followed by a restart (Kafka to JetStream: nothing lost, nothing stored twice).
@Suite("tributary-bridge end to end", .serialized)
struct BridgeServiceEndToEndTests {
    static func brokers() throws -> String { try BrokerEnvironment.recorded("KAFKA_BROKERS") }

    static func writeConfig(_ json: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bridge-\(UInt32.random(in: 0...UInt32.max)).json").path
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func unique(_ prefix: String) -> String { "\(prefix)\(UInt32.random(in: 0...UInt32.max))" }

    @Test func checkPrintsThePlanAndABadFileNamesTheField() async throws {
        let good = try Self.writeConfig("""
        {"nats": {"url": "nats://127.0.0.1:4222"}, "kafka": {"bootstrap.servers": "127.0.0.1:9092"},
         "routes": [{"name": "events", "from": {"nats": "events.>"}, "to": {"kafka": "events"}, "key": {"subject_token": 2}}]}
        """)
        let check = ChildProcess(try toolPath("tributary-bridge"), ["--check", good])
        try check.start()
        let plan = await check.finish()
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stdout.contains("route 'events': NATS subject 'events.>' -> Kafka topic 'events', key: subject token 2; at most once"))
        let bad = try Self.writeConfig(#"{"kafka": {"bootstrap.servers": "k:1"}, "routes": [{"name": "x", "from": {"kafka": ["t"]}, "to": {"nats": "a"}}]}"#)
        let refused = ChildProcess(try toolPath("tributary-bridge"), ["--check", bad])
        try refused.start()
        let result = await refused.finish()
        #expect(result.status == 1)
        #expect(result.stderr.contains("routes[0] ('x'): from.group"), "\(result.stderr)")
    }

    @Test func onceForwardsNMessagesFromNATSToKafkaAndExits() async throws {
        let url = try BrokerEnvironment.natsURL()
        let kafka = try await KafkaClient.connect(try KafkaClientConfiguration(bootstrapServers: try Self.brokers()))
        defer { kafka.close() }
        let topic = Self.unique("bridge-once-")
        try await kafka.createTopic(KafkaNewTopic(name: topic, partitions: 2))
        let prefix = Self.unique("once")
        let config = try Self.writeConfig("""
        {"nats": {"url": "\(url)"}, "kafka": {"bootstrap.servers": "\(try Self.brokers())"}, "status_interval": 0,
         "routes": [{"name": "events", "from": {"nats": "\(prefix).>"}, "to": {"kafka": "\(topic)"}, "key": {"subject_token": 2}}]}
        """)
        let bridge = ChildProcess(try toolPath("tributary-bridge"), ["--once", "50", config])
        try bridge.start()
        try await bridge.waitForStderr(containing: "route 'events' started")
        let publisher = try await NATSClient.connect(NATSOptions(url: url))
        for index in 0..<60 { try await publisher.publishWaiting(Array("\(index)".utf8), to: "\(prefix).k\(index % 3)") }
        try await publisher.flush()
        let result = await bridge.finish(timeout: .seconds(60))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("route events: received"), "a final status line")
        let consumer = try kafka.makeConsumer()
        try await consumer.assign(topic: topic, partition: 0, from: .earliest)
        try await consumer.assign(topic: topic, partition: 1, from: .earliest)
        var count = 0
        for record in try await consumer.readToEnd(timeout: .seconds(30)) where record.topic == topic { count += 1 }
        consumer.close()
        #expect(count >= 50, "at least the 50 it was asked for (\(count))")
        await publisher.close()
    }

    @Test func aKilledBridgeRestartsWithoutLossOrDuplicatesIntoJetStream() async throws {
        let url = try BrokerEnvironment.natsURL()
        let kafka = try await KafkaClient.connect(try KafkaClientConfiguration(bootstrapServers: try Self.brokers()))
        defer { kafka.close() }
        let nats = try await NATSClient.connect(NATSOptions(url: url))
        let js = try JetStreamContext(client: nats)
        let topic = Self.unique("bridge-kill-")
        try await kafka.createTopic(KafkaNewTopic(name: topic, partitions: 3))
        let stream = Self.unique("BRIDGEKILL")
        let prefix = stream.lowercased()
        try await js.createStream(StreamConfig(name: stream, subjects: ["\(prefix).>"], storage: .memory))
        let total = 10_000
        let producer = try kafka.makeProducer()
        for index in 0..<total {
            try await producer.produce(topic: topic, key: Array("k\(index % 20)".utf8), value: Array("\(index)".utf8))
        }
        try await producer.close()
        let group = Self.unique("bridge-kill-g")
        let config = try Self.writeConfig("""
        {"nats": {"url": "\(url)"}, "status_interval": 0,
         "kafka": {"bootstrap.servers": "\(try Self.brokers())", "session.timeout.ms": 6000, "heartbeat.interval.ms": 500, "auto.commit.interval.ms": 200},
         "routes": [{"name": "to-js", "from": {"kafka": ["\(topic)"], "group": "\(group)"}, "to": {"jetstream": "\(prefix).{key}"},
                     "start_from": "earliest", "max_in_flight": 1}]}
        """)
        let first = ChildProcess(try toolPath("tributary-bridge"), [config])
        try first.start()
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(60)
        // One record in flight at a time (each waits for its JetStream ack): the kill lands mid-flow.
        while try await js.streamInfo(stream).state.messages < 300, clock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        first.process.signal(SIGKILL)
        let killed = await first.finish(timeout: .seconds(10))
        let storedAtKill = try await js.streamInfo(stream).state.messages
        #expect(killed.status != 0, "killed mid-flow")
        #expect(storedAtKill < UInt64(total), "the kill landed before the end (\(storedAtKill) stored)")

        let second = ChildProcess(try toolPath("tributary-bridge"), [config])
        try second.start()
        try await second.waitForStderr(containing: "route 'to-js' started")   // signal handlers are in place
        let end = clock.now + .seconds(120)
        while try await js.streamInfo(stream).state.messages < UInt64(total), clock.now < end { try await Task.sleep(for: .milliseconds(50)) }
        second.process.signal(SIGTERM)
        let drained = await second.finish(timeout: .seconds(30))
        #expect(drained.status == 0, "SIGTERM drains and exits 0: \(drained.stderr)")
        let info = try await js.streamInfo(stream)
        #expect(info.state.messages == UInt64(total), "every record stored once (records re-read after the kill were dropped as duplicates)")
        try await js.deleteStream(stream)
        await nats.close()
    }
}
