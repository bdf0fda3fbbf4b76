import Foundation
import KafkaCatCore
import Testing
import ToolSupport
import TributaryKafka

@Suite("kafka-cat flags that kcat users type")
struct KafkaCatParityTests {
    private let environment = ["KAFKA_BROKERS": "127.0.0.1:9092"]

    private func parse(_ arguments: [String], environment: [String: String]? = nil) throws -> KafkaCatCommand {
        try #require(try KafkaCatCommand.parse(arguments, environment: environment ?? self.environment))
    }

    private func usageError(_ arguments: [String]) -> String? {
        do {
            _ = try KafkaCatCommand.parse(arguments, environment: environment)
            return nil
        } catch {
            return error.message
        }
    }

    @Test func versionAndPropertyListingNeedNoModeOrBrokers() throws {
        #expect(try parse(["-V"], environment: [:]).showsVersion)
        #expect(try parse(["--version"], environment: [:]).showsVersion)
        #expect(try parse(["-X", "list"], environment: [:]).propertyAction == .list)
        #expect(try parse(["-X", "dump", "-X", "linger.ms=7"]).propertyAction == .dump)
        #expect(KafkaCatCommand.versionText.contains("Version "))
        let listing = KafkaCatProperties.listing
        for name in ["message.max.bytes", "message.timeout.ms", "partitioner", "debug", "bootstrap.servers"] {
            #expect(listing.contains("\n" + name + " "), "\(name) missing from -X list")
        }
        #expect(listing.contains("KafkaProducerConfiguration.deliveryTimeout"))
    }

    @Test func dumpShowsWhatWasSetWithoutSecrets() throws {
        var properties = try KafkaCatProperties(["linger.ms=7", "partitioner=consistent_random"])
        try properties.set("client.id", "cli")
        #expect(properties.dump == "# Global config\nlinger.ms = 7\npartitioner = consistent_random\nclient.id = cli\n\n")
    }

    @Test func newProducerProperties() throws {
        let properties = try KafkaCatProperties(["message.max.bytes=2000000", "message.timeout.ms=4000", "partitioner=murmur2", "debug=protocol,broker"])
        var producer = KafkaProducerConfiguration()
        properties.apply(to: &producer)
        #expect(producer.maxRequestSize == 2_000_000)
        #expect(producer.deliveryTimeout == .milliseconds(4000))
        #expect(properties.partitioner == .murmur2)
        #expect(properties.debug == ["protocol", "broker"])
        #expect(throws: UsageError.self) { try KafkaCatProperties(["partitioner=sticky"]) }
        #expect(throws: UsageError.self) { try KafkaCatProperties(["debug=everything"]) }
        #expect(usageError(["-L", "-X", "no.such.property=1"])?.contains("unknown -X property 'no.such.property'") == true)
        #expect(try parse(["-L", "-d", "all"]).properties.debug == ["all"])
    }

    @Test func configurationFilesComeBeforeTheCommandLine() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kafka-cat-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("kcat.conf")
        try "# comment\n\nbootstrap.servers=10.0.0.1\\:9092\nlinger.ms = 50\nclient.id=from-file\n".write(to: file, atomically: true, encoding: .utf8)

        let fromFlag = try parse(["-L", "-F", file.path, "-X", "client.id=from-flag"], environment: [:])
        #expect(fromFlag.brokers.map(\.description) == ["10.0.0.1:9092"])
        #expect(fromFlag.properties.clientID == "from-flag")
        #expect(fromFlag.properties.linger == .milliseconds(50))
        let fromEnvironment = try parse(["-L"], environment: ["KCAT_CONFIG": file.path])
        #expect(fromEnvironment.properties.clientID == "from-file")

        try "linger.ms\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(throws: UsageError.self) { try parse(["-L", "-F", file.path]) }
        #expect(usageError(["-L", "-F", directory.appendingPathComponent("missing.conf").path])?.contains("cannot read the configuration file") == true)
    }

    @Test func queryModeTakesTopicPartitionTimestamp() throws {
        let command = try parse(["-Q", "-t", "orders:0:1700000000000", "-t", "orders:1:5"])
        #expect(command.mode == .query)
        #expect(command.queries == [KafkaCatQuery(topic: "orders", partition: 0, timestamp: 1_700_000_000_000),
                                    KafkaCatQuery(topic: "orders", partition: 1, timestamp: 5)])
        #expect(usageError(["-Q"])?.contains("-Q needs") == true)
        #expect(usageError(["-Q", "-t", "orders:0"])?.contains("TOPIC:PARTITION:TIMESTAMP") == true)
        #expect(usageError(["-Q", "-t", "a:0:1", "-t", "a:0:2"])?.contains("given twice") == true)
    }

    @Test func producerFlags() throws {
        #expect(try parse(["-P", "-t", "x", "-p", "-1"]).partition == nil)
        #expect(usageError(["-C", "-t", "x", "-p", "-1"])?.contains("-P only") == true)
        let files = try parse(["-P", "-t", "x", "a.bin", "b.bin"])
        #expect(files.files == ["a.bin", "b.bin"])
        #expect(!files.lineMode)
        #expect(try parse(["-P", "-t", "x", "-l", "in.txt"]).lineMode)
        #expect(usageError(["-P", "-t", "x", "-l", "a", "b"])?.contains("-l reads one file") == true)
        #expect(usageError(["-P", "-t", "x", "-l"])?.contains("-l needs a FILE") == true)
        #expect(try parse(["-P", "-t", "x", "-T"]).tee)
        #expect(usageError(["-C", "-t", "x", "file"])?.contains("file arguments are for -P") == true)
    }

    @Test func consumerFlags() throws {
        let stop = try parse(["-C", "-t", "x", "-o", "beginning", "-o", "e@1700000000000"])
        #expect(stop.stopTimestamp == 1_700_000_000_000)
        #expect(stop.start == .beginning)
        #expect(try parse(["-C", "-t", "x", "-o", "e@5", "-o", "s@3"]).start == .timestamp(3))
        #expect(usageError(["-C", "-t", "x", "-o", "e@soon"])?.contains("e@") == true)
        #expect(try parse(["-C", "-t", "x", "-E"]).exitOnError == false)
        #expect(try parse(["-C", "-t", "x"]).exitOnError)
        #expect(try parse(["-C", "-t", "x", "-m", "2.5"]).metadataTimeout == .milliseconds(2500))
        #expect(usageError(["-C", "-t", "x", "-m", "0"])?.contains("-m") == true)
        #expect(try parse(["-C", "-t", "x", "-u"]).mode == .consume)

        var out: [UInt8] = []
        try parse(["-C", "-t", "x", "-O", "-K", ":"]).output.render(KafkaCatRecord(topic: "x", partition: 0, offset: 41, timestamp: 0, key: Array("k".utf8), value: Array("v".utf8)), into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "41:k:v\n")
    }

    @Test func groupTopicsMayBeRegularExpressions() throws {
        #expect(try parse(["-G", "g", "^orders-.*", "refunds"]).topics == ["^orders-.*", "refunds"])
        #expect(usageError(["-G", "g", "^orders-("])?.contains("not a regular expression") == true)
    }

    @Test func jsonCarriesTheLeader() {
        let record = KafkaCatRecord(KafkaConsumerRecord(topic: "t", partition: 0, offset: 1, timestamp: 2, key: nil, value: nil), broker: 7)
        #expect(KafkaCatJSON.record(record).contains(#""broker":7"#))
    }

    /// Check values of the hashes librdkafka's partitioners use.
    @Test func partitionerHashes() {
        #expect(KafkaCatHash.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(KafkaCatHash.crc32([]) == 0)
        #expect(KafkaCatHash.fnv1a([]) == 0x811C_9DC5)
        #expect(KafkaCatHash.fnv1a(Array("a".utf8)) == 0xE40C_292C)
        #expect(KafkaCatHash.fnv1aPartitionHash(Array("a".utf8)) == 0x1BF3_D6D4, "0xE40C292C is negative as Int32: made positive")
        var random = SystemRandomNumberGenerator()
        let key = Array("order-7".utf8)
        #expect(KafkaCatPartitioner.consistent.partition(forKey: key, partitionCount: 6, using: &random) == Int32(KafkaCatHash.crc32(key) % 6))
        #expect(KafkaCatPartitioner.consistent.partition(forKey: nil, partitionCount: 6, using: &random) == 0)
        #expect(KafkaCatPartitioner.murmur2Random.partition(forKey: key, partitionCount: 6, using: &random) == nil)
        for _ in 0..<20 {
            let chosen = KafkaCatPartitioner.consistentRandom.partition(forKey: [], partitionCount: 6, using: &random)
            #expect(chosen.map { (0..<6).contains($0) } == true)
        }
    }
}
