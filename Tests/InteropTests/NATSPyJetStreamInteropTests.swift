import Foundation
import Testing
import TributaryJetStream
import TributaryNATS
import TributaryTestSupport

func jetStreamPeerScript() -> String {
    BrokerEnvironment.repoRoot().appendingPathComponent("Tests/InteropTests/peers/nats_py_jetstream_peer.py").path
}

/// Tributary's JetStream client against nats-py's, both directions.
@Suite("JetStream interop with nats-py")
struct NATSPyJetStreamInteropTests {
    func runPython(_ arguments: [String]) throws -> ChildProcess {
        ChildProcess(try BrokerEnvironment.pythonExecutable(), [jetStreamPeerScript()] + arguments)
    }

    static func jsonLines(_ output: String) throws -> [[String: Any]] {
        try output.split(separator: "\n").filter { $0.hasPrefix("{") }.map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:]
        }
    }

    static func uniqueName(_ prefix: String) -> (name: String, subject: String) {
        let token = "\(UInt32.random(in: 0...UInt32.max))\(UInt32.random(in: 0...UInt32.max))"
        return ("\(prefix)_\(token)", "interop.js.\(token)")
    }

    @Test func natsPyPublishesWithDedupeIdsTributaryConsumes() async throws {
        let url = try BrokerEnvironment.natsURL()
        let client = try await NATSClient.connect(url: url)
        let js = try JetStreamContext(client: client)
        let (stream, subject) = Self.uniqueName("PYPUB")
        try await js.createStream(StreamConfig(name: stream, subjects: ["\(subject).>"]))

        let peer = try runPython(["pub", url, "\(subject).orders", "5"])
        try peer.start()
        let result = await peer.finish()
        #expect(result.status == 0, "nats-py peer failed: \(result.stderr)")
        let acks = try Self.jsonLines(result.stdout)
        #expect(acks.count == 6)
        #expect(acks.map { $0["seq"] as? Int } == [1, 2, 3, 4, 5, 1], "the repeated id is acknowledged with the original sequence")
        #expect(acks.map { $0["duplicate"] as? Bool } == [false, false, false, false, false, true])
        #expect(acks.allSatisfy { $0["stream"] as? String == stream })

        let consumer = try await js.createConsumer(stream: stream, config: ConsumerConfig(durableName: "swift"))
        let messages = try await consumer.fetch(10, expires: .seconds(1))
        #expect(messages.map(\.string) == (0..<5).map { "py-\($0)" })
        #expect(messages.map { $0.headers?["Nats-Msg-Id"] } == (0..<5).map { "py-\($0)" })
        for message in messages { try await message.doubleAck() }
        #expect(try await consumer.info().numAckPending == 0)
        try await js.deleteStream(stream)
        await client.close()
    }

    @Test func tributaryPublishesNatsPyPullsAndAcks() async throws {
        let url = try BrokerEnvironment.natsURL()
        let client = try await NATSClient.connect(url: url)
        let js = try JetStreamContext(client: client)
        let (stream, subject) = Self.uniqueName("SWPUB")
        try await js.createStream(StreamConfig(name: stream, subjects: ["\(subject).>"]))
        for index in 0..<6 {
            try await js.publish("swift-\(index)", to: "\(subject).orders", options: JetStreamPublishOptions(messageID: "sw-\(index % 4)"))
        }
        #expect(try await js.streamInfo(stream).state.messages == 4, "ids sw-0 and sw-1 repeat inside the window")
        let consumer = try await js.createConsumer(stream: stream, config: ConsumerConfig(durableName: "python", ackWait: .seconds(30)))

        let peer = try runPython(["pull", url, stream, "python", "4", "20"])
        try peer.start()
        let result = await peer.finish()
        #expect(result.status == 0, "nats-py peer failed: \(result.stderr)")
        let received = try Self.jsonLines(result.stdout)
        #expect(received.map { $0["data"] as? String } == (0..<4).map { "swift-\($0)" })
        #expect(received.map { $0["stream_seq"] as? Int } == [1, 2, 3, 4])
        #expect(received.map { $0["msg_id"] as? String } == (0..<4).map { "sw-\($0)" })
        #expect(received.allSatisfy { $0["delivered"] as? Int == 1 })
        let info = try await consumer.info()
        #expect(info.numAckPending == 0, "nats-py's acks reached the consumer")
        #expect(info.numPending == 0)
        #expect(info.ackFloor.streamSequence == 4)
        try await js.deleteStream(stream)
        await client.close()
    }

    @Test func natsPyKeyValueStreamIsReadableWithoutDirectGet() async throws {
        let url = try BrokerEnvironment.natsURL()
        let client = try await NATSClient.connect(url: url)
        let js = try JetStreamContext(client: client)
        let bucket = "py_\(UInt32.random(in: 0...UInt32.max))"
        let peer = try runPython(["kv", url, bucket, "colour", "teal"])
        try peer.start()
        let result = await peer.finish()
        #expect(result.status == 0, "nats-py peer failed: \(result.stderr)")

        let info = try await js.streamInfo("KV_\(bucket)")
        #expect(info.config.allowDirect == false, "nats-py 2.16 creates KV streams without direct get")
        let entry = try await js.getLastMessage(stream: "KV_\(bucket)", subject: "$KV.\(bucket).colour")
        #expect(entry.string == "teal")
        #expect(entry.sequence == 1)
        try await js.deleteStream("KV_\(bucket)")
        await client.close()
    }
}
