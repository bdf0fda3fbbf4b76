import Foundation
import Testing
import TributaryKafka
import TributaryTestSupport

/// Tributary and librdkafka 2.16 (confluent-kafka) log in to the same SASL broker (tansu behind
/// `Tests/Support/sasl_front.py`, see `KafkaSASLBroker`) with each mechanism and read each
/// other's records, and with OAUTHBEARER (librdkafka's unsecured-JWT mode, Tributary's token
/// provider). librdkafka is the control: if it cannot log in, the front is wrong.
@Suite("Kafka SASL interop with librdkafka", .serialized)
struct LibrdkafkaSASLInteropTests {
    struct PeerRecord: Codable, Equatable {
        var partition: Int32?
        var offset: Int64?
        var key: String?
        var value: String?
        var headers: [[String?]]
    }

    private static func peer(_ arguments: [String], environment: [String: String]) throws -> ChildProcess {
        let script = BrokerEnvironment.repoRoot().appendingPathComponent("Tests/InteropTests/peers/librdkafka_peer.py").path
        return ChildProcess(try BrokerEnvironment.pythonExecutable(), [script] + arguments, environment: environment)
    }

    private static func hex(_ text: String) -> String { Array(text.utf8).map { String(format: "%02x", $0) }.joined() }

    @Test(arguments: KafkaSASLBroker.allMechanisms)
    func bothClientsLogInAndReadEachOther(mechanism: String) async throws {
        let broker = try await KafkaSASLBroker()
        defer { broker.stop() }
        var configuration = try KafkaClientConfiguration(bootstrapServers: broker.bootstrap)
        configuration.securityProtocol = .saslPlaintext
        configuration.sasl = KafkaSASL(mechanism: try #require(KafkaSASL.Mechanism(name: mechanism)), username: broker.username, password: broker.password)
        try await Self.readEachOther(configuration, broker: broker, label: mechanism.lowercased(), peerEnvironment: [
            "PEER_SASL_MECHANISM": mechanism, "PEER_SASL_USERNAME": broker.username, "PEER_SASL_PASSWORD": broker.password,
        ])
        // Both logged in through the front with this mechanism: ours, librdkafka's reader and writer.
        #expect(broker.count("authenticated user=alice mechanism=\(mechanism) ") >= 3, "\(broker.logs())")
        #expect(broker.count("authentication failed") == 0, "\(broker.logs())")
    }

    /// librdkafka with `enable.sasl.oauthbearer.unsecure.jwt=true` and
    /// `sasl.oauthbearer.config=principal=alice extension_traceId=peer` (the control for the
    /// front's OAUTHBEARER check), Tributary with a token provider making the same kind of token.
    @Test func bothClientsLogInWithOAuthBearer() async throws {
        let broker = try await KafkaSASLBroker()
        defer { broker.stop() }
        var configuration = try KafkaClientConfiguration(bootstrapServers: broker.bootstrap)
        configuration.securityProtocol = .saslPlaintext
        configuration.sasl = .oauthBearer { .unsecuredJWT(principal: "svc-orders", extensions: ["traceId": "tributary"]) }
        try await Self.readEachOther(configuration, broker: broker, label: "oauthbearer", peerEnvironment: [
            "PEER_SASL_MECHANISM": "OAUTHBEARER", "PEER_OAUTHBEARER_CONFIG": "principal=alice lifeSeconds=600 scope=kafka extension_traceId=peer",
        ])
        #expect(broker.count("authenticated user=svc-orders mechanism=OAUTHBEARER (reauthentication=no) extensions=traceId=tributary") >= 1, "\(broker.logs())")
        #expect(broker.count("authenticated user=alice mechanism=OAUTHBEARER (reauthentication=no) extensions=traceId=peer") >= 2, "\(broker.logs())")
        #expect(broker.count("authentication failed") == 0 && broker.count("token rejected") == 0, "\(broker.logs())")
    }

    /// Tributary writes 20 records librdkafka reads, then librdkafka writes 20 Tributary reads.
    private static func readEachOther(_ configuration: KafkaClientConfiguration, broker: KafkaSASLBroker, label: String,
                                      peerEnvironment: [String: String]) async throws {
        let client = try await KafkaClient.connect(configuration)
        defer { client.close() }
        let topic = "sasl-interop-\(label)-\(UInt32.random(in: 0...UInt32.max))"
        try await client.createTopic(KafkaNewTopic(name: topic, partitions: 1))

        // Tributary → librdkafka.
        let producer = try client.makeProducer()
        for index in 0..<20 { _ = try await producer.send(topic: topic, key: "k\(index)", value: "from-tributary-\(index)") }
        try await producer.close()
        let reader = try Self.peer(["consume", broker.bootstrap, topic, "1", "20", "30"], environment: peerEnvironment)
        try reader.start()
        let read = await reader.finish(timeout: .seconds(60))
        #expect(read.status == 0, "librdkafka consume: \(read.stderr)\nfront:\n\(broker.logs())")
        let received = read.stdout.split(separator: "\n").compactMap { try? JSONDecoder().decode(PeerRecord.self, from: Data($0.utf8)) }
        #expect(received.map(\.value) == (0..<20).map { Self.hex("from-tributary-\($0)") })

        // librdkafka → Tributary.
        let input = (0..<20).map { #"{"key": "\#(Self.hex("p\($0)"))", "value": "\#(Self.hex("from-librdkafka-\($0)"))", "headers": []}"# }.joined(separator: "\n")
        let writer = try Self.peer(["produce", broker.bootstrap, topic, "none"], environment: peerEnvironment)
        try writer.start()
        let wrote = await writer.finish(stdin: Data(input.utf8), timeout: .seconds(60))
        #expect(wrote.status == 0, "librdkafka produce: \(wrote.stderr)\nfront:\n\(broker.logs())")
        var consumerConfiguration = KafkaConsumerConfiguration()
        consumerConfiguration.fetchMaxWait = .milliseconds(100)
        let consumer = try client.makeConsumer(consumerConfiguration)
        defer { consumer.close() }
        try await consumer.assign(topic: topic, partition: 0, from: .offset(20))
        var values: [String] = []
        let deadline = ContinuousClock.now + .seconds(30)
        while values.count < 20 && ContinuousClock.now < deadline {
            values += try await consumer.poll(maxRecords: 100, timeout: .milliseconds(500)).compactMap(\.valueString)
        }
        #expect(values == (0..<20).map { "from-librdkafka-\($0)" })
    }
}
