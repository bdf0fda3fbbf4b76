import Foundation
import Testing
import TributaryKafka
import TributaryKafkaProtocol
import TributaryTestSupport

/// The kcat flags kafka-cat added for parity, run as a user would run them against the harness's
/// broker (and, where a broker must die, a private tansu).
@Suite("kafka-cat kcat parity end to end", .serialized)
struct KafkaCatParityEndToEndTests {
    private func brokers() throws -> String { try BrokerEnvironment.recorded("KAFKA_BROKERS") }

    private func connect(_ brokers: String? = nil) async throws -> KafkaClient {
        try await KafkaClient.connect(try KafkaClientConfiguration(bootstrapServers: try brokers ?? self.brokers()))
    }

    private func createTopic(_ prefix: String, partitions: Int32) async throws -> String {
        let name = "\(prefix)-\(UInt32.random(in: 0...UInt32.max))"
        let client = try await connect()
        defer { client.close() }
        try await client.createTopic(KafkaNewTopic(name: name, partitions: partitions, replicationFactor: 1))
        return name
    }

    private func kafkaCat(_ arguments: [String], stdin: Data? = nil, brokers: String? = nil, environment: [String: String] = [:],
                          timeout: Duration = .seconds(30)) async throws -> (status: Int32, stdout: String, stderr: String) {
        let child = ChildProcess(try toolPath("kafka-cat"), ["-b", try brokers ?? self.brokers()] + arguments, environment: environment)
        try child.start()
        return await child.finish(stdin: stdin, timeout: timeout)
    }

    private func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kafka-cat-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test func versionAndPropertyCommandsNeedNoBroker() async throws {
        for flag in ["-V", "--version"] {
            let version = try await kafkaCat([flag], brokers: "127.0.0.1:1")
            #expect(version.status == 0, "\(version.stderr)")
            #expect(version.stdout.contains("Version "), "\(version.stdout)")
        }
        let list = try await kafkaCat(["-X", "list"], brokers: "127.0.0.1:1")
        #expect(list.status == 0)
        #expect(list.stdout.contains("message.timeout.ms"), "\(list.stdout)")

        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("kcat.conf")
        try "client.id=from-file\nlinger.ms=20\n".write(to: file, atomically: true, encoding: .utf8)
        let dump = try await kafkaCat(["-F", file.path, "-X", "acks=1", "-X", "dump"])
        #expect(dump.status == 0, "\(dump.stderr)")
        #expect(dump.stdout.contains("# Global config\nclient.id = from-file\nlinger.ms = 20\nacks = 1\n"), "\(dump.stdout)")
        let fromEnvironment = try await kafkaCat(["-X", "dump"], environment: ["KCAT_CONFIG": file.path])
        #expect(fromEnvironment.stdout.contains("client.id = from-file"), "\(fromEnvironment.stdout)")
    }

    @Test func filesAreOneRecordEachAndBinarySafe() async throws {
        let topic = try await createTopic("cat-files", partitions: 1)
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let binary = Data((0...255).map { UInt8($0) } + [10, 0, 10])
        let first = directory.appendingPathComponent("one.bin")
        let second = directory.appendingPathComponent("two.txt")
        let empty = directory.appendingPathComponent("empty")
        try binary.write(to: first)
        try Data("line 1\nline 2\n".utf8).write(to: second)
        try Data().write(to: empty)
        let produced = try await kafkaCat(["-P", "-t", topic, "-k", "file", first.path, second.path, empty.path])
        #expect(produced.status == 0, "\(produced.stderr)")

        let client = try await connect()
        defer { client.close() }
        let consumer = try client.makeConsumer()
        defer { consumer.close() }
        try await consumer.assign(topic: topic, partition: 0, from: .earliest)
        let records = try await consumer.readToEnd(timeout: .seconds(30))
        #expect(records.count == 2, "empty files are skipped, as kcat does")
        #expect(records.first?.value == [UInt8](binary))
        #expect(records.last?.valueString == "line 1\nline 2\n")
        #expect(records.allSatisfy { $0.keyString == "file" })

        // -l reads the one file as stdin: one record per line.
        let lines = try await kafkaCat(["-P", "-t", topic, "-l", second.path])
        #expect(lines.status == 0, "\(lines.stderr)")
        #expect(try await consumer.readToEnd(timeout: .seconds(30)).map(\.valueString) == ["line 1", "line 2"])

        let missing = try await kafkaCat(["-P", "-t", topic, directory.appendingPathComponent("nope").path])
        #expect(missing.status == 2, "\(missing.stderr)")
        #expect(missing.stderr.contains("could not be read"), "\(missing.stderr)")
    }

    @Test func teeEchoesAndPartitionMinusOneUsesThePartitioner() async throws {
        let topic = try await createTopic("cat-tee", partitions: 4)
        let input = (0..<40).map { "key-\($0):value-\($0)" }.joined(separator: "\n") + "\n"
        let produced = try await kafkaCat(["-P", "-t", topic, "-K", ":", "-p", "-1", "-T"], stdin: Data(input.utf8))
        #expect(produced.status == 0, "\(produced.stderr)")
        #expect(produced.stdout == input)
        let consumed = try await kafkaCat(["-C", "-t", topic, "-e", "-q", "-f", "%k %p\\n"])
        let placed = consumed.stdout.split(separator: "\n").map { $0.split(separator: " ") }
        #expect(placed.count == 40)
        for pair in placed where pair.count == 2 {
            #expect(Int(pair[1]) == KafkaPartitioner.partition(forKey: Array(pair[0].utf8), partitionCount: 4), "\(pair)")
        }
    }

    /// For each librdkafka partitioner, kafka-cat puts keys where librdkafka puts them.
    @Test(arguments: ["consistent", "consistent_random", "murmur2", "murmur2_random", "fnv1a", "fnv1a_random"])
    func partitionersPlaceKeysAsLibrdkafkaDoes(partitioner: String) async throws {
        let topic = try await createTopic("cat-partitioner", partitions: 7)
        var generator = SystemRandomNumberGenerator()
        let keys: [String] = (0..<150).map { index in
            index % 3 == 0 ? "order-\(index)" : String((0..<(1 + index % 20)).map { _ in Character(Unicode.Scalar(UInt8.random(in: 97...122, using: &generator))) })
        }
        let script = BrokerEnvironment.repoRoot().appendingPathComponent("Tests/InteropTests/peers/librdkafka_peer.py").path
        let peer = ChildProcess(try BrokerEnvironment.pythonExecutable(), [script, "partitions", try brokers(), topic, partitioner])
        try peer.start()
        let hexKeys = keys.map { key in key.utf8.map { String(format: "%02x", $0) }.joined() }
        let theirs = await peer.finish(stdin: Data(hexKeys.joined(separator: "\n").utf8), timeout: .seconds(60))
        #expect(theirs.status == 0, "peer: \(theirs.stderr)")
        let librdkafka = theirs.stdout.split(separator: "\n").compactMap { Int($0) }

        let ours = try await kafkaCat(["-P", "-t", topic, "-K", ":", "-X", "partitioner=\(partitioner)"],
                                      stdin: Data(keys.map { "\($0):x" }.joined(separator: "\n").utf8))
        #expect(ours.status == 0, "\(ours.stderr)")
        let consumed = try await kafkaCat(["-C", "-t", topic, "-e", "-q", "-f", "%k %p %s\\n"])
        var kafkaCatPlacement: [String: Int] = [:]
        for line in consumed.stdout.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 3, parts[2] == "x", let partition = Int(parts[1]) { kafkaCatPlacement[String(parts[0])] = partition }
        }
        #expect(librdkafka.count == keys.count)
        #expect(keys.map { kafkaCatPlacement[$0] } == librdkafka.map { Optional($0) })
    }

    @Test func queryStopTimestampAndJSONLeader() async throws {
        let topic = try await createTopic("cat-time", partitions: 1)
        let client = try await connect()
        defer { client.close() }
        let producer = try client.makeProducer()
        let base: Int64 = 1_700_000_000_000
        for index in 0..<10 {
            try await producer.send(topic: topic, key: nil, value: "m\(index)", partition: 0, timestamp: base + Int64(index) * 1000)
        }
        try await producer.close()

        let query = try await kafkaCat(["-Q", "-t", "\(topic):0:\(base + 3500)"])
        #expect(query.status == 0, "\(query.stderr)")
        #expect(query.stdout == "\(topic) [0] offset 4\n", "\(query.stdout)")

        let stopped = try await kafkaCat(["-C", "-t", topic, "-o", "s@\(base + 2000)", "-o", "e@\(base + 6000)", "-f", "%s\\n"])
        #expect(stopped.status == 0, "\(stopped.stderr)")
        #expect(stopped.stdout == "m2\nm3\nm4\nm5\n")
        #expect(stopped.stderr.contains("% Reached stop timestamp for topic \(topic) [0] at offset 6: exiting"), "\(stopped.stderr)")
    }

    @Test func debugListsProtocolRequests() async throws {
        let listed = try await kafkaCat(["-L", "-d", "protocol"])
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(listed.stderr.contains("% DEBUG: Sent ApiVersions request (v"), "\(listed.stderr)")
        #expect(listed.stderr.contains("% DEBUG: Sent Metadata request (v"), "\(listed.stderr)")
    }

    @Test func groupFollowsARegularExpression() async throws {
        let prefix = "cat-regex-\(UInt32.random(in: 0...UInt32.max))"
        let client = try await connect()
        defer { client.close() }
        for suffix in ["a", "b"] { try await client.createTopic(KafkaNewTopic(name: "\(prefix)-\(suffix)", partitions: 1)) }
        try await client.createTopic(KafkaNewTopic(name: "other-\(prefix)", partitions: 1))
        let producer = try client.makeProducer()
        try await producer.send(topic: "\(prefix)-a", key: nil, value: "from a")
        try await producer.send(topic: "\(prefix)-b", key: nil, value: "from b")
        try await producer.send(topic: "other-\(prefix)", key: nil, value: "not matched")
        try await producer.close()

        let group = try await kafkaCat(["-G", "\(prefix)-g", "^\(prefix)-.*", "-e", "-o", "beginning", "-f", "%t %s\\n",
                                        "-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=1000"], timeout: .seconds(60))
        #expect(group.status == 0, "\(group.stderr)")
        #expect(Set(group.stdout.split(separator: "\n").map(String.init)) == ["\(prefix)-a from a", "\(prefix)-b from b"], "\(group.stdout)")
    }

    @Test func consumingWithoutExitAtEndFailsWhenAllBrokersAreDown() async throws {
        let broker = try await TansuProcess()
        let address = "127.0.0.1:\(broker.port)"
        var stoppedBroker = false
        defer { if !stoppedBroker { broker.stop() } }
        let client = try await connect(address)
        let topic = "cat-down-\(UInt32.random(in: 0...UInt32.max))"
        try await client.createTopic(KafkaNewTopic(name: topic, partitions: 1))
        let producer = try client.makeProducer()
        try await producer.send(topic: topic, key: nil, value: "before")
        try await producer.close()
        client.close()

        // Without -e nothing ends the consumer but the watch noticing the dead broker.
        let consumer = ChildProcess(try toolPath("kafka-cat"), ["-b", address, "-C", "-t", topic, "-m", "2"])
        try consumer.start()
        try await consumer.waitForLine("before", timeout: .seconds(30))
        broker.stop()
        stoppedBroker = true
        let result = await consumer.finish(timeout: .seconds(60))
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("all brokers are down (\(address))"), "\(result.stderr)")
    }

    @Test func producingReportsABrokerThatStaysDown() async throws {
        let broker = try await TansuProcess()
        let address = "127.0.0.1:\(broker.port)"
        var stoppedBroker = false
        defer { if !stoppedBroker { broker.stop() } }
        let client = try await connect(address)
        let topic = "cat-pdown-\(UInt32.random(in: 0...UInt32.max))"
        try await client.createTopic(KafkaNewTopic(name: topic, partitions: 1))
        client.close()

        let producer = ChildProcess(try toolPath("kafka-cat"), ["-b", address, "-P", "-t", topic, "-T", "-X", "message.timeout.ms=9000"])
        try producer.start()
        producer.input.fileHandleForWriting.write(Data("first\n".utf8))
        try await producer.waitForLine("first", timeout: .seconds(30))
        broker.stop()
        stoppedBroker = true
        let result = await producer.finish(stdin: Data("second\n".utf8), timeout: .seconds(60))
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("the brokers do not answer"), "\(result.stderr)")
        #expect(result.stderr.contains("records were not delivered"), "\(result.stderr)")
    }
}
