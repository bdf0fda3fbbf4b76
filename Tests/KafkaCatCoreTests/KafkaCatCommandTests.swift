import KafkaCatCore
import Testing
import ToolSupport
import TributaryKafka

@Suite("kafka-cat command line")
struct KafkaCatCommandTests {
    private let environment = ["KAFKA_BROKERS": "127.0.0.1:9092"]

    private func parse(_ arguments: [String]) throws -> KafkaCatCommand {
        try #require(try KafkaCatCommand.parse(arguments, environment: environment))
    }

    private func usageError(_ arguments: [String]) -> String? {
        do {
            _ = try KafkaCatCommand.parse(arguments, environment: environment)
            return nil
        } catch {
            return error.message
        }
    }

    @Test func modesAndTopic() throws {
        #expect(try parse(["-L"]).mode == .list)
        #expect(try parse(["-P", "-t", "x"]).mode == .produce)
        #expect(try parse(["-C", "-t", "x", "-o", "-10", "-e"]).start == .fromEnd(10))
        #expect(try parse(["-Ceq", "-t", "x"]).exitAtEnd)
        #expect(try parse(["-Ceq", "-t", "x"]).verbosity == 0)
        #expect(try parse(["-L", "-v", "-v"]).verbosity == 3)
        #expect(usageError([])?.contains("no mode") == true)
        #expect(usageError(["-P", "-C", "-t", "x"])?.contains("do not mix modes") == true)
        #expect(usageError(["-C"])?.contains("-t TOPIC") == true)
        #expect(usageError(["-C", "-t", "x", "-o", "soon"])?.contains("-o") == true)
        #expect(usageError(["-P", "-t", "x", "-z", "brotli"])?.contains("brotli") == true)
        #expect(usageError(["-L", "--bogus"])?.contains("--bogus") == true)
    }

    @Test func groupModeTakesTopicArguments() throws {
        let command = try parse(["-b", "h:1", "-G", "billing", "orders", "refunds", "-e", "-q", "-f", "%s\\n"])
        #expect(command.mode == .group)
        #expect(command.group == "billing")
        #expect(command.topics == ["orders", "refunds"])
        #expect(command.exitAtEnd && command.verbosity == 0)
        #expect(try parse(["orders", "-G", "billing", "-t", "refunds", "orders"]).topics == ["refunds", "orders"])
        #expect(try parse(["-G", "g", "t", "-c", "5"]).count == 5)
        #expect(usageError(["-G", "g"])?.contains("one or more topics") == true)
        #expect(usageError(["-G", "", "t"])?.contains("group name is empty") == true)
        #expect(usageError(["-G", "g", "t", "-p", "1"])?.contains("-p does not apply to -G") == true)
        #expect(usageError(["-G", "g", "-C", "-t", "t"])?.contains("do not mix modes") == true)
        #expect(usageError(["-C", "-t", "t", "extra"])?.contains("unexpected argument 'extra'") == true)
    }

    @Test func groupStartOffsets() throws {
        // kcat leaves a new group's start to librdkafka's auto.offset.reset, which is latest.
        #expect(try parse(["-G", "g", "t"]).groupOffsetReset == .latest)
        #expect(try parse(["-G", "g", "t", "-o", "beginning"]).groupOffsetReset == .earliest)
        #expect(try parse(["-G", "g", "t", "-o", "end"]).groupOffsetReset == .latest)
        #expect(try parse(["-G", "g", "t", "-o", "stored"]).groupOffsetReset == .latest)
        #expect(try parse(["-G", "g", "t", "-X", "auto.offset.reset=smallest"]).groupOffsetReset == .earliest)
        #expect(try parse(["-G", "g", "t", "-X", "auto.offset.reset=earliest", "-o", "end"]).groupOffsetReset == .latest)
        #expect(try parse(["-G", "g", "t", "-X", "auto.offset.reset=earliest", "-o", "stored"]).groupOffsetReset == .earliest)
        #expect(usageError(["-G", "g", "t", "-o", "-10"])?.contains("with -G") == true)
        #expect(usageError(["-G", "g", "t", "-o", "5"])?.contains("beginning, end or stored") == true)
    }

    @Test func groupProperties() throws {
        let command = try parse(["-G", "g", "t", "-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=2000",
                                 "-X", "partition.assignment.strategy=roundrobin, range", "-X", "group.instance.id=host-1",
                                 "-X", "enable.auto.commit=false", "-X", "auto.commit.interval.ms=1000",
                                 "-X", "max.poll.interval.ms=60000", "-X", "fetch.wait.max.ms=50"])
        var configuration = KafkaGroupConsumerConfiguration(groupID: "g", topics: ["t"])
        command.properties.apply(to: &configuration)
        #expect(configuration.sessionTimeout == .seconds(6))
        #expect(configuration.heartbeatInterval == .seconds(2))
        #expect(configuration.assignors == [.roundRobin, .range])
        #expect(configuration.groupInstanceID == "host-1")
        #expect(configuration.enableAutoCommit == false)
        #expect(configuration.autoCommitInterval == .seconds(1))
        #expect(configuration.rebalanceTimeout == .seconds(60))
        #expect(configuration.fetch.fetchMaxWait == .milliseconds(50))

        var defaults = KafkaGroupConsumerConfiguration(groupID: "g", topics: ["t"])
        try parse(["-G", "g", "t"]).properties.apply(to: &defaults)
        #expect(defaults.sessionTimeout == KafkaGroupConsumerConfiguration.defaultSessionTimeout)
        #expect(defaults.assignors == KafkaGroupConsumerConfiguration.defaultAssignors)
        #expect(defaults.enableAutoCommit)

        #expect(try parse(["-G", "g", "t", "-X", "partition.assignment.strategy=cooperative-sticky"]).properties.assignors == [.cooperativeSticky])
        #expect(usageError(["-G", "g", "t", "-X", "partition.assignment.strategy=sticky"])?.contains("'sticky'") == true)
        #expect(usageError(["-G", "g", "t", "-X", "enable.auto.commit=yes"])?.contains("true or false") == true)
        #expect(usageError(["-G", "g", "t", "-X", "session.timeout.ms=0"])?.contains("session.timeout.ms") == true)
        #expect(usageError(["-G", "g", "t", "-X", "group.instance.id="])?.contains("group.instance.id") == true)
    }

    @Test func brokersFromFlagOrEnvironment() throws {
        #expect(try parse(["-L"]).brokers.map(\.description) == ["127.0.0.1:9092"])
        #expect(try parse(["-L", "-b", "a:1,b:2"]).brokers.map(\.description) == ["a:1", "b:2"])
        #expect(throws: UsageError.self) { try KafkaCatCommand.parse(["-L"], environment: [:]) }
    }

    @Test func properties() throws {
        let command = try parse(["-P", "-t", "x", "-X", "acks=0", "-X", "linger.ms=7", "-X", "compression.codec=lz4",
                                 "-X", "client.id=me", "-X", "batch.size=100", "-X", "enable.partition.eof=true"])
        #expect(command.properties.acks == KafkaAcks.none)
        #expect(command.properties.linger == .milliseconds(7))
        #expect(command.properties.compression == .lz4)
        #expect(command.properties.clientID == "me")
        #expect(command.properties.batchSize == 100)
        #expect(try parse(["-P", "-t", "x", "-z", "zstd"]).properties.compression == .zstd)
        #expect(try parse(["-C", "-t", "x", "-X", "auto.offset.reset=smallest"]).properties.autoOffsetReset == .earliest)
        #expect(usageError(["-L", "-X", "socket.nagle.disable=true"])?.contains("'socket.nagle.disable'") == true)
        #expect(usageError(["-L", "-X", "acks=2"])?.contains("acks") == true)
        #expect(usageError(["-L", "-X", "acks"])?.contains("property=value") == true)
    }

    @Test func idempotenceProperties() throws {
        var producer = KafkaProducerConfiguration()
        #expect(producer.usesIdempotence)
        try parse(["-P", "-t", "x", "-X", "enable.idempotence=false", "-X", "max.in.flight=3"]).properties.apply(to: &producer)
        #expect(producer.idempotence == .disabled && producer.maxInFlightRequestsPerConnection == 3 && !producer.usesIdempotence)
        try parse(["-P", "-t", "x", "-X", "enable.idempotence=true"]).properties.apply(to: &producer)
        #expect(producer.idempotence == .enabled && producer.usesIdempotence)
        var leaderOnly = KafkaProducerConfiguration()
        try parse(["-P", "-t", "x", "-X", "acks=1"]).properties.apply(to: &leaderOnly)
        #expect(!leaderOnly.usesIdempotence, "acks=1 without enable.idempotence turns idempotence off, as in the Java client")
        #expect(usageError(["-L", "-X", "enable.idempotence=maybe"])?.contains("enable.idempotence") == true)
    }

    @Test func produceKeysHeadersAndNulls() throws {
        let command = try parse(["-P", "-t", "x", "-K", ":", "-k", "fixed", "-H", "a=1", "-H", "b", "-D", "|"])
        #expect(command.delimiter == Array("|".utf8))
        #expect(command.headers == [KafkaCatHeader(name: "a", value: Array("1".utf8)), KafkaCatHeader(name: "b", value: nil)])
        let split = command.keyAndValue(of: Array("k:v:w".utf8))
        #expect(split.key == Array("k".utf8) && split.value == Array("v:w".utf8))
        let noDelimiter = command.keyAndValue(of: Array("plain".utf8))
        #expect(noDelimiter.key == Array("fixed".utf8) && noDelimiter.value == Array("plain".utf8))

        let nulls = try parse(["-P", "-t", "x", "-K", "\\t", "-Z"])
        let empty = nulls.keyAndValue(of: Array("\tv".utf8))
        #expect(empty.key == nil && empty.value == Array("v".utf8))
        let emptyValue = nulls.keyAndValue(of: Array("k\t".utf8))
        #expect(emptyValue.key == Array("k".utf8) && emptyValue.value == nil)
        let kept = try parse(["-P", "-t", "x", "-K", "\\t"]).keyAndValue(of: Array("k\t".utf8))
        #expect(kept.value == [])
    }

    @Test func consumeOutputDefaults() throws {
        let record = KafkaCatRecord(topic: "x", partition: 0, offset: 1, timestamp: 2, key: Array("k".utf8), value: Array("v".utf8))
        func rendered(_ arguments: [String]) throws -> String {
            var out: [UInt8] = []
            try parse(arguments).output.render(record, into: &out)
            return String(decoding: out, as: UTF8.self)
        }
        #expect(try rendered(["-C", "-t", "x"]) == "v\n")
        #expect(try rendered(["-C", "-t", "x", "-K", "\\t"]) == "k\tv\n")
        #expect(try rendered(["-C", "-t", "x", "-D", "|"]) == "v|")
        #expect(try rendered(["-C", "-t", "x", "-f", "%o:%s\\n"]) == "1:v\n")
        #expect(try rendered(["-C", "-t", "x", "-J"]).hasSuffix("\"key\":\"k\",\"payload\":\"v\"}\n"))
    }
}
