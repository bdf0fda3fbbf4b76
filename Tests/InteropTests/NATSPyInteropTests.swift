import Foundation
import Testing
import TributaryNATS
import TributaryTestSupport

/// Tributary ↔ nats-py (the Python client), both directions, headers included.
@Suite("Interop with nats-py")
struct NATSPyInteropTests {
    func runPython(_ arguments: [String]) throws -> ChildProcess {
        ChildProcess(try BrokerEnvironment.pythonExecutable(), arguments)
    }

    @Test func tributaryPublishesNatsPyReceives() async throws {
        let url = try BrokerEnvironment.natsURL()
        let subject = uniqueSubject("interop.to-py")
        let peer = try runPython([peerScript(), "sub", url, subject, "3", "20"])
        try peer.start()
        try await peer.waitForLine("READY")

        let client = try await NATSClient.connect(url: url)
        var headers = NATSHeaders()
        headers.append("order-7", for: "Order-Id")
        headers.append("a", for: "X-Multi")
        headers.append("b", for: "X-Multi")
        try client.publish(Array("hello from swift".utf8), to: subject, headers: headers)
        try client.publish([0, 1, 2, 255], to: subject, headers: headers)
        try client.publish([], to: subject, replyTo: "reply.here", headers: headers)
        try await client.flush()

        let result = await peer.finish()
        #expect(result.status == 0, "nats-py peer failed: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n").filter { $0.hasPrefix("{") }
        // Required, not expected: the checks below index the three messages.
        try #require(lines.count == 3, "peer output: \(result.stdout)")
        let decoded = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:] }
        #expect(decoded.map { $0["payload_hex"] as? String } == ["68656c6c6f2066726f6d207377696674", "000102ff", ""])
        #expect(decoded[2]["reply"] as? String == "reply.here")
        for message in decoded {
            let hdrs = message["headers"] as? [String: [String]] ?? [:]
            #expect(hdrs["Order-Id"] == ["order-7"], "headers seen by nats-py: \(hdrs)")
            // The peer reads the raw header block, so every value arrives, in order.
            #expect(hdrs["X-Multi"] == ["a", "b"], "\(hdrs)")
        }
        await client.close()
    }

    @Test func natsPyPublishesTributaryReceives() async throws {
        let url = try BrokerEnvironment.natsURL()
        let subject = uniqueSubject("interop.from-py")
        let client = try await NATSClient.connect(url: url)
        let sub = try client.subscribe(to: subject)
        try await client.flush()
        let count = 5
        let peer = try runPython([peerScript(), "pub", url, subject, "\(count)"])
        try peer.start()
        let result = await peer.finish()
        #expect(result.status == 0, "nats-py peer failed: \(result.stderr)")
        let messages = try await collect(sub, count: count + 1)
        for i in 0..<count {
            #expect(messages[i].string == "py-\(i)")
            #expect(messages[i].headers?["X-Seq"] == "\(i)")
            #expect(messages[i].headers?["Tributary-Test"] == "1")
            #expect(messages[i].headers?.values(for: "X-Multi") == ["a", "b"])
        }
        #expect(messages[count].payload.isEmpty)
        #expect(messages[count].headers?["X-Seq"] == "\(count)")
        await client.close()
    }

    @Test func requestReplyAcrossClients() async throws {
        // A nats-py requester (its own inbox scheme) against a Tributary responder.
        let url = try BrokerEnvironment.natsURL()
        let client = try await NATSClient.connect(url: url)
        let subject = uniqueSubject("interop.rpc")
        let sub = try client.subscribe(to: subject)
        try await client.flush()
        let serving = Task {
            for try await message in sub { try client.respond(to: message, with: Array(("py-asked:" + message.string).utf8)) }
        }
        let peer = try runPython([peerScript(), "req", url, subject, "ping", "5"])
        try peer.start()
        let result = await peer.finish()
        #expect(result.status == 0, "nats-py requester failed: \(result.stderr)")
        #expect(result.stdout.contains("py-asked:ping"), "\(result.stdout)")
        serving.cancel()
        await client.close()
    }
}
