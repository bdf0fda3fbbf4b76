import Foundation
import Testing
import TributaryJetStream
import TributaryNATS
import TributaryTestSupport

/// nats-stream and nats-consumer run as a user would run them, against the shared server.
@Suite("JetStream tools end to end")
struct JetStreamToolsEndToEndTests {
    func run(_ tool: String, _ arguments: [String], stdin: String? = nil) async throws -> (status: Int32, stdout: String, stderr: String) {
        let process = ChildProcess(try toolPath(tool), ["-s", try BrokerEnvironment.natsURL()] + arguments)
        try process.start()
        return await process.finish(stdin: stdin.map { Data($0.utf8) })
    }

    func started(_ tool: String, _ arguments: [String]) throws -> ChildProcess {
        let process = ChildProcess(try toolPath(tool), ["-s", try BrokerEnvironment.natsURL()] + arguments)
        try process.start()
        return process
    }

    @Test func natsPubJetStreamPrintsStreamAndSequence() async throws {
        let token = UInt32.random(in: 0...UInt32.max)
        let stream = "PUBJS_\(token)"
        let subject = "tools.pubjs.\(token)"
        let client = try await NATSClient.connect(url: try BrokerEnvironment.natsURL())
        let js = try JetStreamContext(client: client)
        try await js.createStream(StreamConfig(name: stream, subjects: ["\(subject).>"], storage: .memory))

        let counted = try await run("nats-pub", ["--jetstream", "--count", "3", "\(subject).a", "order {{Count}}"])
        #expect(counted.status == 0, "\(counted.stderr)")
        for sequence in 1...3 {
            #expect(counted.stderr.contains("Stored in Stream: \(stream) Sequence: \(sequence)\n"), "\(counted.stderr)")
        }
        #expect(counted.stderr.contains("Published 7 bytes to \"\(subject).a\""), "\(counted.stderr)")
        let lines = try await run("nats-pub", ["-J", "--send-on", "newline", "\(subject).b"], stdin: "x\nyy\n")
        #expect(lines.status == 0, "\(lines.stderr)")
        #expect(lines.stderr.contains("Stored in Stream: \(stream) Sequence: 4\n") && lines.stderr.contains("Stored in Stream: \(stream) Sequence: 5\n"), "\(lines.stderr)")
        let quiet = try await run("nats-pub", ["-J", "-q", "\(subject).c", "quiet"])
        #expect(quiet.status == 0 && quiet.stderr.isEmpty, "\(quiet.stderr)")

        let stored = try await js.streamInfo(stream)
        #expect(stored.state.messages == 6)
        let fourth = try await js.getMessage(stream: stream, sequence: 4)
        #expect(fourth.subject == "\(subject).b" && fourth.payload == Array("x".utf8))

        let noStream = try await run("nats-pub", ["--jetstream", "tools.nostream.\(token)", "lost"])
        #expect(noStream.status == 1, "exit \(noStream.status): \(noStream.stderr)")
        #expect(noStream.stderr.contains("no stream acknowledged"), "\(noStream.stderr)")
        let withReply = try await run("nats-pub", ["--jetstream", "--reply", "r", "\(subject).a", "x"])
        #expect(withReply.status == 1 && withReply.stderr.contains("--reply cannot be used with --jetstream"), "\(withReply.stderr)")
        #expect(try await js.streamInfo(stream).state.messages == 6, "refused publishes stored nothing")
        try await js.deleteStream(stream)
        await client.close()
    }

    @Test func natsSubStreamReplayFlags() async throws {
        let token = UInt32.random(in: 0...UInt32.max)
        let stream = "SUBJS_\(token)"
        let subject = "tools.subjs.\(token)"
        let client = try await NATSClient.connect(url: try BrokerEnvironment.natsURL())
        let js = try JetStreamContext(client: client)
        try await js.createStream(StreamConfig(name: stream, subjects: ["\(subject).>"], storage: .memory))
        for index in 1...3 { try await js.publish("a\(index)", to: "\(subject).a") }
        try await js.publish("b1", to: "\(subject).b")
        try await js.publish("a4", to: "\(subject).a")

        let all = try await run("nats-sub", ["--stream", stream, "--all", "-T", "\(subject).a"])
        #expect(all.status == 0, "\(all.stderr)")
        #expect(all.stdout.hasPrefix("[#1] Received JetStream message: stream: \(stream) seq: 1 / pending: 3 / subject: \(subject).a / time: "), "\(all.stdout)")
        #expect(all.stdout.contains("[#4] Received JetStream message: stream: \(stream) seq: 5 / pending: 0 / subject: \(subject).a"), "\(all.stdout)")
        #expect(!all.stdout.contains("b1"), "the subject filter applies")
        #expect(all.stderr.contains("Subscribing to subject \(subject).a from first received message"), "\(all.stderr)")

        let fromSequence = try await run("nats-sub", ["--stream", stream, "--start-sequence", "2", "--count", "3", "--raw"])
        #expect(fromSequence.stdout == "a2\na3\nb1\n", "\(fromSequence.stdout)")
        let last = try await run("nats-sub", ["--stream", stream, "--last", "-T", "--raw"])
        #expect(last.stdout == "a4\n", "\(last.stdout)")
        let lastPerSubject = try await run("nats-sub", ["--stream", stream, "--last-per-subject", "-T", "--raw", "\(subject).>"])
        #expect(lastPerSubject.stdout == "b1\na4\n", "\(lastPerSubject.stdout)")

        // --since: only what was stored within the window.
        try await Task.sleep(for: .seconds(2))
        try await js.publish("late", to: "\(subject).b")
        let since = try await run("nats-sub", ["--stream", stream, "--since", "1s", "-T", "--raw"])
        #expect(since.stdout == "late\n", "\(since.stdout)")
        let sinceDays = try await run("nats-sub", ["--stream", stream, "--since", "1d", "-T", "--raw"])
        #expect(sinceDays.stdout.split(separator: "\n").count == 6, "\(sinceDays.stdout)")

        // --new sees only what is published after it started.
        let fresh = try started("nats-sub", ["--stream", stream, "--new", "--count", "1"])
        try await fresh.waitForStderr(containing: "for new messages")
        try await js.publish("new one", to: "\(subject).a")
        let freshResult = await fresh.finish()
        #expect(freshResult.status == 0, "\(freshResult.stderr)")
        #expect(freshResult.stdout.hasPrefix("[#1] Received JetStream message: stream: \(stream) seq: 7 /") && freshResult.stdout.contains("\nnew one\n"),
                "\(freshResult.stdout)")

        // Ctrl-C ends it with status 0 and deletes the ordered consumer.
        let waiting = try started("nats-sub", ["--stream", stream, "--new"])
        try await waiting.waitForStderr(containing: "Subscribing to all subjects of stream \(stream)")
        let running = try await js.consumerNames(stream: stream)
        #expect(running.count == 1, "\(running)")
        waiting.process.signal(SIGINT)
        let interrupted = await waiting.finish()
        #expect(interrupted.status == 0, "\(interrupted.stderr)")
        let left = try await js.consumerNames(stream: stream)
        #expect(left.isEmpty, "the ordered consumers were deleted; left: \(left); stderr: \(interrupted.stderr)")

        let usage = try await run("nats-sub", ["--last", "\(subject).a"])
        #expect(usage.status == 1 && usage.stderr.contains("--last needs --stream STREAM"), "\(usage.stderr)")
        let two = try await run("nats-sub", ["--stream", stream, "--all", "--new"])
        #expect(two.status == 1 && two.stderr.contains("cannot be combined"), "\(two.stderr)")
        let missing = try await run("nats-sub", ["--stream", "NOPE_\(token)", "--all"])
        #expect(missing.status == 1 && missing.stderr.contains("stream not found"), "\(missing.stderr)")
        try await js.deleteStream(stream)
        await client.close()
    }

    @Test func natsBenchJetStreamModesRun() async throws {
        for (arguments, expected) in [(["jspub", "--msgs", "50"], ["\"mode\":\"jspub\"", "\"stored\":50", "\"p50_us\":"]),
                                      (["jspub", "--async", "--window", "16", "--msgs", "300"], ["\"mode\":\"jspub-async\"", "\"stored\":300", "\"window\":16"]),
                                      (["jsfetch", "--msgs", "300", "--batch", "40", "--storage", "file"], ["\"mode\":\"jsfetch\"", "\"received\":300", "\"storage\":\"file\""])] {
            let bench = try await run("nats-bench", arguments)
            #expect(bench.status == 0, "\(arguments): \(bench.stderr)")
            let json = bench.stdout.split(separator: "\n").last.map(String.init) ?? ""
            for key in expected { #expect(json.contains(key), "\(arguments): \(json)") }
            #expect(json.contains("\"maxrss_kb\":") && json.contains("\"cpu_user\":"), "\(json)")
        }
    }

    @Test func streamAndConsumerLifecycle() async throws {
        let token = UInt32.random(in: 0...UInt32.max)
        let stream = "TOOLS_\(token)"
        let subject = "tools.js.\(token)"
        let added = try await run("nats-stream", ["add", stream, "--subjects", "\(subject).>", "--storage", "memory", "--max-age", "1d", "--dupe-window", "1m"])
        #expect(added.status == 0, "\(added.stderr)")
        #expect(added.stdout.contains("Maximum Age: 24h0m0s"), "\(added.stdout)")

        let client = try await NATSClient.connect(url: try BrokerEnvironment.natsURL())
        let js = try JetStreamContext(client: client)
        for index in 1...3 { try await js.publish("job \(index)", to: "\(subject).work") }

        let info = try await run("nats-stream", ["info", stream])
        #expect(info.stdout.contains("Messages: 3"), "\(info.stdout)")
        let listed = try await run("nats-stream", ["ls", "--names"])
        #expect(listed.stdout.split(separator: "\n").contains(Substring(stream)))
        let got = try await run("nats-stream", ["get", stream, "2"])
        #expect(got.status == 0 && got.stdout.contains("job 2"), "\(got.stdout) \(got.stderr)")
        let viewed = try await run("nats-stream", ["view", stream])
        #expect(viewed.stdout.contains("job 1") && viewed.stdout.contains("job 3"), "\(viewed.stdout)")
        #expect(try await js.consumerNames(stream: stream).isEmpty, "view deleted its ordered consumer")

        let consumer = try await run("nats-consumer", ["add", stream, "worker", "--filter", "\(subject).work", "--max-deliver", "3", "--wait", "10s"])
        #expect(consumer.status == 0, "\(consumer.stderr)")
        let next = try await run("nats-consumer", ["next", stream, "worker", "--count", "2", "--wait", "2s"])
        #expect(next.status == 0, "\(next.stderr)")
        #expect(next.stdout.contains("job 1") && next.stdout.contains("job 2") && !next.stdout.contains("job 3"), "\(next.stdout)")
        #expect(next.stderr.contains("Acknowledged 2 messages"), "\(next.stderr)")
        let state = try await js.consumerInfo(stream: stream, name: "worker")
        #expect(state.numAckPending == 0 && state.numPending == 1)

        let purged = try await run("nats-stream", ["purge", stream, "-f", "--keep", "1"])
        #expect(purged.stderr.contains("Purged 2 messages"), "\(purged.stderr)")
        let refused = try await run("nats-stream", ["rm", stream])
        #expect(refused.status == 1 && refused.stderr.contains("add -f"))
        let removedConsumer = try await run("nats-consumer", ["rm", stream, "worker", "-f"])
        #expect(removedConsumer.status == 0)
        let missing = try await run("nats-consumer", ["info", stream, "worker"])
        #expect(missing.status == 1 && missing.stderr.contains("consumer not found"), "\(missing.stderr)")
        let removed = try await run("nats-stream", ["rm", stream, "-f"])
        #expect(removed.status == 0)
        let gone = try await run("nats-stream", ["info", stream])
        #expect(gone.status == 1 && gone.stderr.contains("stream not found"), "\(gone.stderr)")
        await client.close()
    }
}
