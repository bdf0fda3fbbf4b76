import Foundation
import Testing
import TributaryKafka
import TributaryTestSupport

/// `kafka-cat` run as a user would run it, against the harness's Kafka-protocol broker.
@Suite("kafka-cat end to end", .serialized)
struct KafkaCatEndToEndTests {
    private func brokers() throws -> String {
        try BrokerEnvironment.recorded("KAFKA_BROKERS")
    }

    /// Creates a topic with a name no other test uses, through the library.
    private func createTopic(_ prefix: String, partitions: Int32) async throws -> String {
        let name = "\(prefix)-\(UInt32.random(in: 0...UInt32.max))"
        let client = try await KafkaClient.connect(try KafkaClientConfiguration(bootstrapServers: try brokers()))
        defer { client.close() }
        try await client.createTopic(KafkaNewTopic(name: name, partitions: partitions, replicationFactor: 1))
        return name
    }

    /// Runs kafka-cat with `-b` set to the harness's brokers.
    private func kafkaCat(_ arguments: [String], stdin: String? = nil) async throws -> (status: Int32, stdout: String, stderr: String) {
        let child = ChildProcess(try toolPath("kafka-cat"), ["-b", try brokers()] + arguments)
        try child.start()
        return await child.finish(stdin: stdin.map { Data($0.utf8) })
    }

    @Test func listShowsACreatedTopicWithItsPartitions() async throws {
        let topic = try await createTopic("cat-list", partitions: 2)
        let all = try await kafkaCat(["-L"])
        #expect(all.status == 0, "\(all.stderr)")
        #expect(all.stdout.hasPrefix("Metadata for all topics (from broker "), "\(all.stdout)")
        #expect(all.stdout.contains(" (controller)\n"), "\(all.stdout)")
        #expect(all.stdout.contains("  topic \"\(topic)\" with 2 partitions:\n"), "\(all.stdout)")

        let one = try await kafkaCat(["-L", "-t", topic])
        #expect(one.status == 0, "\(one.stderr)")
        let lines = one.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.first?.hasPrefix("Metadata for \(topic) (from broker ") == true, "\(one.stdout)")
        #expect(lines.contains(" 1 topics:"), "\(one.stdout)")
        let partitionLines = lines.filter { $0.hasPrefix("    partition ") }
        #expect(partitionLines.count == 2, "\(one.stdout)")
        for (index, line) in partitionLines.enumerated() {
            #expect(line.range(of: #"^    partition \#(index), leader -?\d+, replicas: [\d,]*, isrs: [\d,]*$"#, options: .regularExpression) != nil, "\(line)")
        }

        let json = try await kafkaCat(["-L", "-J", "-t", topic])
        #expect(json.status == 0, "\(json.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let topics = try #require(object["topics"] as? [[String: Any]])
        #expect(topics.first?["topic"] as? String == topic)
        #expect((topics.first?["partitions"] as? [Any])?.count == 2)
        #expect((object["query"] as? [String: Any])?["topic"] as? String == topic)
    }

    @Test func produceWithKeysAndHeadersThenConsumeWithAFormat() async throws {
        let topic = try await createTopic("cat-produce", partitions: 1)
        let produced = try await kafkaCat(["-P", "-t", topic, "-K", ":", "-H", "source=cli", "-H", "run=7"],
                                          stdin: "k1:hello\nk2:big world\n\nk3:with:colon\n")
        #expect(produced.status == 0, "\(produced.stderr)")

        let consumed = try await kafkaCat(["-C", "-t", topic, "-e", "-f", "%k=%s %h\\n"])
        #expect(consumed.status == 0, "\(consumed.stderr)")
        #expect(consumed.stdout == """
        k1=hello source=cli,run=7
        k2=big world source=cli,run=7
        k3=with:colon source=cli,run=7

        """)
        #expect(consumed.stderr.contains("% Reached end of topic \(topic) [0] at offset 3: exiting"), "\(consumed.stderr)")

        let quiet = try await kafkaCat(["-C", "-t", topic, "-e", "-q", "-c", "2"])
        #expect(quiet.status == 0, "\(quiet.stderr)")
        #expect(quiet.stdout == "hello\nbig world\n")
        #expect(quiet.stderr.isEmpty, "\(quiet.stderr)")
    }

    @Test func jsonEnvelopesParse() async throws {
        let topic = try await createTopic("cat-json", partitions: 1)
        let produced = try await kafkaCat(["-P", "-t", topic, "-D", "|", "-k", "fixed", "-H", "h=v", "-z", "gzip"], stdin: "one|tw\"o|")
        #expect(produced.status == 0, "\(produced.stderr)")
        let consumed = try await kafkaCat(["-C", "-t", topic, "-e", "-J", "-q"])
        #expect(consumed.status == 0, "\(consumed.stderr)")
        let client = try await KafkaClient.connect(try KafkaClientConfiguration(bootstrapServers: try brokers()))
        defer { client.close() }
        let leader = Int(try await client.describeTopic(topic).partitions[0].leader)
        let lines = consumed.stdout.split(separator: "\n")
        #expect(lines.count == 2, "\(consumed.stdout)")
        for (index, line) in lines.enumerated() {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(object["topic"] as? String == topic)
            #expect(object["partition"] as? Int == 0)
            #expect(object["offset"] as? Int == index)
            #expect(object["tstype"] as? String == "create")
            #expect((object["ts"] as? Int ?? 0) > 1_600_000_000_000)
            #expect(object["broker"] as? Int == leader, "the partition leader's id")
            #expect(object["headers"] as? [String] == ["h", "v"])
            #expect(object["key"] as? String == "fixed")
            #expect(object["payload"] as? String == ["one", "tw\"o"][index])
        }
    }

    @Test func relativeOffsetReadsTheLastRecords() async throws {
        let topic = try await createTopic("cat-tail", partitions: 1)
        let produced = try await kafkaCat(["-P", "-t", topic, "-p", "0"], stdin: (1...5).map { "m\($0)" }.joined(separator: "\n"))
        #expect(produced.status == 0, "\(produced.stderr)")
        let tail = try await kafkaCat(["-C", "-t", topic, "-o", "-2", "-e", "-q", "-f", "%o %s\\n"])
        #expect(tail.status == 0, "\(tail.stderr)")
        #expect(tail.stdout == "3 m4\n4 m5\n")
        let absolute = try await kafkaCat(["-C", "-t", topic, "-o", "3", "-c", "1", "-q"])
        #expect(absolute.stdout == "m4\n", "\(absolute.stderr)")
    }

    /// `-G` settings shared by the group tests: tansu holds a new group's first join about half
    /// the session timeout, so a short one keeps each run to a few seconds.
    private let groupSettings = ["-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=1000"]

    @Test func groupMemberPrintsEverythingOnceThenOnlyNewRecords() async throws {
        let topic = try await createTopic("cat-group", partitions: 3)
        let group = "cat-group-\(UInt32.random(in: 0...UInt32.max))"
        let first = (1...30).map { "k\($0):v\($0)" }
        let produced = try await kafkaCat(["-P", "-t", topic, "-K", ":"], stdin: first.joined(separator: "\n"))
        #expect(produced.status == 0, "\(produced.stderr)")

        let all = try await kafkaCat(["-G", group, topic, "-e", "-o", "beginning", "-f", "%s\\n"] + groupSettings)
        #expect(all.status == 0, "\(all.stderr)")
        #expect(all.stdout.split(separator: "\n").map(String.init).sorted() == (1...30).map { "v\($0)" }.sorted(), "\(all.stdout)")
        #expect(all.stderr.contains("% Waiting for group rebalance\n"), "\(all.stderr)")
        #expect(all.stderr.contains("% Group \(group) rebalanced (memberid "), "\(all.stderr)")
        #expect(all.stderr.contains("): assigned: \(topic) [0], \(topic) [1], \(topic) [2]\n"), "\(all.stderr)")
        #expect(all.stderr.contains(": exiting\n"), "\(all.stderr)")

        // The same group again: what was printed is committed, so only new records come.
        let again = try await kafkaCat(["-P", "-t", topic, "-K", ":"], stdin: "n1:new1\nn2:new2\nn3:new3\n")
        #expect(again.status == 0, "\(again.stderr)")
        let limited = try await kafkaCat(["-G", group, topic, "-o", "beginning", "-c", "2", "-q"] + groupSettings)
        #expect(limited.status == 0, "\(limited.stderr)")
        let firstTwo = limited.stdout.split(separator: "\n").map(String.init)
        #expect(firstTwo.count == 2 && firstTwo.allSatisfy { ["new1", "new2", "new3"].contains($0) }, "\(limited.stdout)")
        #expect(limited.stderr.isEmpty, "\(limited.stderr)")

        // -c committed exactly the two it printed.
        let rest = try await kafkaCat(["-G", group, topic, "-e", "-o", "beginning", "-q"] + groupSettings)
        #expect(rest.status == 0, "\(rest.stderr)")
        #expect((firstTwo + rest.stdout.split(separator: "\n").map(String.init)).sorted() == ["new1", "new2", "new3"], "\(rest.stdout)")
    }

    @Test func groupMemberCommitsAndLeavesOnInterrupt() async throws {
        let topic = try await createTopic("cat-group-int", partitions: 2)
        let group = "cat-group-int-\(UInt32.random(in: 0...UInt32.max))"
        let produced = try await kafkaCat(["-P", "-t", topic, "-p", "1"], stdin: "before\n")
        #expect(produced.status == 0, "\(produced.stderr)")

        // auto.commit.interval.ms is long: only the commit on the way out can store the offset.
        let member = ChildProcess(try toolPath("kafka-cat"), ["-b", try brokers(), "-G", group, topic, "-o", "beginning",
                                                              "-X", "auto.commit.interval.ms=600000"] + groupSettings)
        try member.start()
        try await member.waitForLine("before", timeout: .seconds(30))
        member.process.signal(SIGINT)
        let stopped = await member.finish()
        #expect(stopped.status == 0, "\(stopped.stderr)")

        let next = try await kafkaCat(["-G", group, topic, "-e", "-o", "beginning", "-q"] + groupSettings)
        #expect(next.status == 0, "\(next.stderr)")
        #expect(next.stdout.isEmpty, "\(next.stdout)")
    }

    @Test func usageErrorsExitOne() async throws {
        for arguments in [["-L", "--bogus"], ["-C"], ["-P", "-C", "-t", "x"], [], ["-C", "-t", "x", "-o", "soon"], ["-G", "g"],
                          ["-G", "g", "x", "-o", "-5"],
                          ["-P", "-t", "x", "-z", "brotli"], ["-L", "-X", "no.such.key=1"]] {
            let result = try await kafkaCat(arguments)
            #expect(result.status == 1, "\(arguments): \(result.stderr)")
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].hasPrefix("kafka-cat: error: "), "\(arguments): \(result.stderr)")
        }
        let unknownKey = try await kafkaCat(["-L", "-X", "no.such.key=1"])
        #expect(unknownKey.stderr.contains("'no.such.key'"), "\(unknownKey.stderr)")
        let help = try await kafkaCat(["--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("-o, --offset OFFSET"), "\(help.stdout)")
    }

    @Test func unreachableBrokerAndUnknownTopicExitTwo() async throws {
        let child = ChildProcess(try toolPath("kafka-cat"), ["-b", "127.0.0.1:1", "-L"])
        try child.start()
        let refused = await child.finish()
        #expect(refused.status == 2, "\(refused.stderr)")
        #expect(refused.stderr.hasPrefix("kafka-cat: error: Kafka connectionFailed"), "\(refused.stderr)")
        #expect(refused.stderr.contains("127.0.0.1:1"), "\(refused.stderr)")

        let missing = "cat-missing-\(UInt32.random(in: 0...UInt32.max))"
        let consume = try await kafkaCat(["-C", "-t", missing, "-e"])
        #expect(consume.status == 2, "\(consume.stderr)")
        #expect(consume.stderr.contains("UNKNOWN_TOPIC_OR_PARTITION"), "\(consume.stderr)")
        let group = try await kafkaCat(["-G", "cat-missing", missing, "-e"])
        #expect(group.status == 2, "\(group.stderr)")
        #expect(group.stderr.contains("UNKNOWN_TOPIC_OR_PARTITION"), "\(group.stderr)")
        let produce = try await kafkaCat(["-P", "-t", missing, "-X", "allow.auto.create.topics=false"], stdin: "x\n")
        #expect(produce.status == 2, "\(produce.stderr)")
        #expect(produce.stderr.contains("UNKNOWN_TOPIC_OR_PARTITION"), "\(produce.stderr)")
    }

    @Test func producingToAMissingTopicCreatesItLikeKcat() async throws {
        // librdkafka producers ask the broker to create a missing topic (allow.auto.create.topics
        // defaults to true for producers); kcat scripts rely on it.
        let topic = "cat-autocreate-\(UInt32.random(in: 0...UInt32.max))"
        let produce = try await kafkaCat(["-P", "-t", topic], stdin: "first\nsecond\n")
        #expect(produce.status == 0, "\(produce.stderr)")
        let consume = try await kafkaCat(["-C", "-t", topic, "-e", "-q", "-f", "%s\n"])
        #expect(consume.status == 0, "\(consume.stderr)")
        #expect(Set(consume.stdout.split(separator: "\n").map(String.init)) == ["first", "second"])
    }
}
