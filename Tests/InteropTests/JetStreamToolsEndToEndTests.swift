import Foundation
import Testing
import TributaryJetStream
import TributaryNATS
import TributaryTestSupport

/// nats-stream and nats-consumer run as a user would run them, against the shared server.
@Suite("JetStream tools end to end")
struct JetStreamToolsEndToEndTests {
    func run(_ tool: String, _ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
        let process = ChildProcess(try toolPath(tool), ["-s", try BrokerEnvironment.natsURL()] + arguments)
        try process.start()
        return await process.finish()
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
