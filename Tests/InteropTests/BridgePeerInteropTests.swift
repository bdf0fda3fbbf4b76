import Foundation
import Testing
import TributaryJetStream
import TributaryKafka
import TributaryNATS
import TributaryTestSupport

/// `tributary-bridge` between other clients: nats-py publishes to JetStream and librdkafka reads
/// the Kafka side; librdkafka produces and nats-py subscribes on the NATS side. Nothing in the
/// path is Tributary but the bridge.
@Suite("tributary-bridge between nats-py and librdkafka", .serialized)
struct BridgePeerInteropTests {
    struct KafkaPeerRecord: Codable {
        var partition: Int32?
        var offset: Int64?
        var key: String?
        var value: String?
        var headers: [[String?]]
    }

    struct NATSPeerMessage: Codable {
        var subject: String
        var headers: [String: [String]]
        var payload_hex: String
    }

    static func python(_ script: String, _ arguments: [String]) throws -> ChildProcess {
        try pythonPeer(script, arguments)
    }

    static func hex(_ text: String) -> String { Array(text.utf8).map { String(format: "%02x", $0) }.joined() }

    static func text(hex: String?) -> String? {
        guard let hex else { return nil }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func lines<T: Decodable>(_ output: String, as type: T.Type) -> [T] {
        output.split(separator: "\n").compactMap { try? JSONDecoder().decode(T.self, from: Data($0.utf8)) }
    }

    @Test func natsPyJetStreamPublishesReachLibrdkafkaThroughTheBridge() async throws {
        let url = try BrokerEnvironment.natsURL()
        let brokers = try BridgeServiceEndToEndTests.brokers()
        let kafka = try await KafkaClient.connect(try KafkaClientConfiguration(bootstrapServers: brokers))
        defer { kafka.close() }
        let nats = try await NATSClient.connect(NATSOptions(url: url))
        let js = try JetStreamContext(client: nats)
        let stream = BridgeServiceEndToEndTests.unique("PYBRIDGE")
        let subject = "\(stream.lowercased()).orders.o-7"
        try await js.createStream(StreamConfig(name: stream, subjects: ["\(stream.lowercased()).>"], storage: .memory))
        _ = try await js.createConsumer(stream: stream, config: ConsumerConfig(durableName: "bridge", ackPolicy: .explicit))
        let topic = BridgeServiceEndToEndTests.unique("bridge-py-rdk-")
        try await kafka.createTopic(KafkaNewTopic(name: topic, partitions: 3))

        // nats-py publishes 400 messages with dedupe ids, and the first again (deduplicated).
        let total = 400
        let publisher = try Self.python("nats_py_jetstream_peer.py", ["pub", url, subject, "\(total)"])
        try publisher.start()
        let published = await publisher.finish(timeout: .seconds(60))
        #expect(published.status == 0, "\(published.stderr)")
        let acks = published.stdout.split(separator: "\n")
        #expect(acks.count == total + 1 && acks.last?.contains("\"duplicate\": true") == true, "\(acks.suffix(2))")

        let config = try BridgeServiceEndToEndTests.writeConfig("""
        {"id": "py-bridge", "nats": {"url": "\(url)"}, "kafka": {"bootstrap.servers": "\(brokers)"}, "status_interval": 0,
         "routes": [{"name": "js-to-kafka", "from": {"jetstream": {"stream": "\(stream)", "consumer": "bridge"}},
                     "to": {"kafka": "\(topic)"}, "key": {"subject_token": 3}}]}
        """)
        let bridge = ChildProcess(try toolPath("tributary-bridge"), ["--once", "\(total)", config])
        try bridge.start()
        let reader = try Self.python("librdkafka_peer.py", ["consume", brokers, topic, "3", "\(total)", "60"])
        try reader.start()
        let bridged = await bridge.finish(timeout: .seconds(90))
        #expect(bridged.status == 0, "\(bridged.stderr)")
        let read = await reader.finish(timeout: .seconds(90))
        #expect(read.status == 0, "\(read.stderr)")
        let records = Self.lines(read.stdout, as: KafkaPeerRecord.self)
        #expect(records.count == total)
        // One key (subject token 3), so one partition, in publish order, with nats-py's dedupe id
        // and the bridge's origin headers.
        #expect(Set(records.map(\.key)) == [Self.hex("o-7")])
        #expect(Set(records.map(\.partition)).count == 1)
        #expect(records.map { Self.text(hex: $0.value) ?? "" } == (0..<total).map { "py-\($0)" })
        for (index, record) in records.enumerated() {
            let headers = Dictionary(record.headers.compactMap { pair in pair.first.flatMap { name in name.map { ($0, Self.text(hex: pair.count > 1 ? pair[1] : nil) ?? "") } } },
                                     uniquingKeysWith: { first, _ in first })
            #expect(headers["Nats-Msg-Id"] == "py-\(index)", "\(record.headers)")
            #expect(headers["NATS-Subject"] == subject)
            #expect(headers["Tributary-Bridge"] == "py-bridge")
        }
        // Every JetStream message was acknowledged after Kafka's ack: nothing left to deliver.
        let info = try await js.consumerInfo(stream: stream, name: "bridge")
        #expect(info.numAckPending == 0 && info.numPending == 0, "ack pending \(info.numAckPending), pending \(info.numPending)")
        await nats.close()
    }

    @Test func librdkafkaRecordsReachANatsPySubscriberThroughTheBridge() async throws {
        let url = try BrokerEnvironment.natsURL()
        let brokers = try BridgeServiceEndToEndTests.brokers()
        let kafka = try await KafkaClient.connect(try KafkaClientConfiguration(bootstrapServers: brokers))
        defer { kafka.close() }
        let topic = BridgeServiceEndToEndTests.unique("bridge-rdk-py-")
        try await kafka.createTopic(KafkaNewTopic(name: topic, partitions: 3))
        let prefix = BridgeServiceEndToEndTests.unique("rdkpy")

        // librdkafka produces 300 keyed records with a repeated header name.
        let total = 300
        var input = ""
        for index in 0..<total {
            let record = KafkaPeerRecord(partition: nil, offset: nil, key: Self.hex("order-\(index % 6)"), value: Self.hex("\(index)"),
                                         headers: [["Trace", Self.hex("t-\(index)")], ["Multi", Self.hex("a")], ["Multi", Self.hex("b")]])
            input += String(decoding: try JSONEncoder().encode(record), as: UTF8.self) + "\n"
        }
        let producer = try Self.python("librdkafka_peer.py", ["produce", brokers, topic, "none"])
        try producer.start(stdin: Data(input.utf8))
        let produced = await producer.finish(timeout: .seconds(60))
        #expect(produced.status == 0, "\(produced.stderr)")

        // nats-py subscribes first: core NATS delivers only to subscriptions that exist.
        let subscriber = try Self.python("nats_py_peer.py", ["sub", url, "\(prefix).>", "\(total)", "90"])
        try subscriber.start()
        try await subscriber.waitForLine("READY")
        let group = BridgeServiceEndToEndTests.unique("bridge-rdk-py-g")
        let config = try BridgeServiceEndToEndTests.writeConfig("""
        {"nats": {"url": "\(url)"}, "status_interval": 0,
         "kafka": {"bootstrap.servers": "\(brokers)", "session.timeout.ms": 6000, "heartbeat.interval.ms": 500},
         "routes": [{"name": "kafka-to-nats", "from": {"kafka": ["\(topic)"], "group": "\(group)"}, "to": {"nats": "\(prefix).{partition}.{key}"},
                     "start_from": "earliest"}]}
        """)
        let bridge = ChildProcess(try toolPath("tributary-bridge"), ["--once", "\(total)", config])
        try bridge.start()
        let bridged = await bridge.finish(timeout: .seconds(90))
        #expect(bridged.status == 0, "\(bridged.stderr)")
        let received = await subscriber.finish(timeout: .seconds(60))
        #expect(received.status == 0, "\(received.stderr)")
        let messages = Self.lines(received.stdout, as: NATSPeerMessage.self)
        #expect(messages.count == total)
        var valuesOfKey: [String: [Int]] = [:]
        for message in messages {
            let parts = message.subject.split(separator: ".")
            #expect(parts.count == 3, "subject \(message.subject)")
            let key = parts.count == 3 ? String(parts[2]) : ""
            let value = Int(Self.text(hex: message.payload_hex) ?? "") ?? -1
            valuesOfKey[key, default: []].append(value)
            #expect(message.headers["Trace"] == ["t-\(value)"], "\(message.headers)")
            #expect(message.headers["Multi"] == ["a", "b"], "every value of a repeated header, in order: \(message.headers)")
            #expect(message.headers["Kafka-Topic"] == [topic], "\(message.headers)")
        }
        #expect(valuesOfKey.count == 6)
        for (key, values) in valuesOfKey {
            #expect(values == values.sorted(), "order kept for \(key)")
            #expect(values.count == total / 6)
        }
    }

    /// `bridge-bench` on every route kind, small: every message arrives once and the JSON line
    /// says so; with `--service` the route runs in a `tributary-bridge` process whose CPU is
    /// reported apart, and with `--prefill` the route drains a source filled beforehand.
    @Test(arguments: [["nats-to-kafka"], ["kafka-to-nats"], ["jetstream-to-kafka", "--prefill"], ["kafka-to-jetstream"],
                      ["nats-to-kafka", "--service"], ["kafka-to-nats", "--service", "--prefill"], ["jetstream-to-kafka", "--service"]])
    func bridgeBenchCarriesEveryMessageOnce(arguments: [String]) async throws {
        let mode = arguments[0]
        var environment: [String: String] = [:]
        environment["NATS_URL"] = try BrokerEnvironment.natsURL()
        environment["KAFKA_BROKERS"] = try BridgeServiceEndToEndTests.brokers()
        let bench = ChildProcess(try toolPath("bridge-bench"), arguments + ["--msgs", "3000", "--keys", "7"], environment: environment)
        try bench.start()
        let result = await bench.finish(timeout: .seconds(180))
        #expect(result.status == 0, "\(result.stderr)")
        let json = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        let service = arguments.contains("--service"), prefill = arguments.contains("--prefill")
        #expect(json.contains("\"mode\":\"\(mode)\",\"prefill\":\(prefill),\"service\":\(service),\"msgs\":3000"), "\(result.stdout)")
        #expect(json.contains("\"dropped\":0,\"duplicates\":0"), "\(result.stdout)")
        #expect(json.contains("\"bridge_cpu_s_per_1m\":") == service, "\(result.stdout)")
        #expect(result.stdout.contains("3000 of 3000"), "\(result.stdout)")
    }
}
