import Foundation
import Testing
import TributaryJetStream
import TributaryNATS
import TributaryTestSupport

/// A publish the server acknowledged is never re-sent by the NATS client's reconnect, so it is
/// stored once even without a `Nats-Msg-Id`.
@Suite("JetStream acknowledged publishes across a restart", .serialized)
struct JetStreamReplyConfirmationTests {
    @Test(arguments: ["graceful", "kill"])
    func acknowledgedPublishesAreNeverStoredTwice(restart: String) async throws {
        let server = try await NATSServerProcess.jetStream()
        defer { server.stop() }
        var natsOptions = testOptions(server.url)
        natsOptions.pingInterval = .seconds(60)     // no keep-alive PONG confirms anything meanwhile
        let client = try await NATSClient.connect(natsOptions)
        var options = JetStreamOptions()
        options.requestTimeout = .seconds(2)
        let js = try JetStreamContext(client: client, options: options)
        try await js.createStream(StreamConfig(name: "ACKED", subjects: ["acked.>"], storage: .file))

        var acked: Set<String> = []
        var failed = 0
        for index in 0..<600 {
            if index == 300 {
                if restart == "kill" { await server.killed() } else { await server.stopped() }
                try await server.restart()
            }
            do {
                _ = try await js.publish("m\(index)", to: "acked.a")
                acked.insert("m\(index)")
            } catch {
                failed += 1
            }
        }
        try await client.flush()
        let info = try await js.streamInfo("ACKED")
        var seen: [String: Int] = [:]
        if info.state.lastSeq > 0 {
            for sequence in 1...info.state.lastSeq {
                guard let message = try? await js.getMessage(stream: "ACKED", sequence: sequence) else { continue }
                seen[message.string, default: 0] += 1
            }
        }
        let repeatedAcked = acked.filter { (seen[$0] ?? 0) > 1 }
        let missingAcked = acked.filter { seen[$0] == nil }
        print("\(restart) restart: \(acked.count) acked, \(failed) failed, \(info.state.messages) stored, \(repeatedAcked.count) acked stored twice")
        #expect(repeatedAcked.isEmpty, "acknowledged publishes stored twice: \(repeatedAcked.sorted().prefix(10))")
        #expect(missingAcked.isEmpty, "acknowledged publishes missing: \(missingAcked.sorted().prefix(10))")
        await client.close()
    }
}
