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
