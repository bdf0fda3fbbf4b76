import Foundation
import Testing
import TributaryNATS
import TributaryTestSupport

/// The nats-* tools run as a user would run them, against the shared server.
@Suite("Tools end to end")
struct ToolsEndToEndTests {
    @Test func subReceivesWhatPubSends() async throws {
        let url = try BrokerEnvironment.natsURL()
        let subject = uniqueSubject("tools.e2e")
        let sub = ChildProcess(try toolPath("nats-sub"), ["-s", url, subject, "--count", "2"])
        try sub.start()
        // nats-sub prints "Subscribing on …" to stderr once the subscription is active; give it time.
        try await waitForStderr(sub, containing: "Subscribing on")

        let pub = ChildProcess(try toolPath("nats-pub"), ["-s", url, subject, "order {{Count}}", "--count", "2", "-H", "Order-Id:o-9"])
        try pub.start()
        let pubResult = await pub.finish()
        #expect(pubResult.status == 0, "nats-pub: \(pubResult.stderr)")

        let result = await sub.finish()
        #expect(result.status == 0, "nats-sub: \(result.stderr)")
        #expect(result.stdout.contains("[#1] Received on \"\(subject)\""), "\(result.stdout)")
        #expect(result.stdout.contains("[#2] Received on \"\(subject)\""), "\(result.stdout)")
        #expect(result.stdout.contains("Order-Id: o-9"), "\(result.stdout)")
        #expect(result.stdout.contains("order 1"), "\(result.stdout)")
        #expect(result.stdout.contains("order 2"), "\(result.stdout)")
    }

    @Test func pubReadsStdinLinesAndSubRawPrintsPayloads() async throws {
        let url = try BrokerEnvironment.natsURL()
        let subject = uniqueSubject("tools.stdin")
        let sub = ChildProcess(try toolPath("nats-sub"), ["-s", url, subject, "--count", "3", "--raw"])
        try sub.start()
        try await Task.sleep(for: .milliseconds(800))
        let pub = ChildProcess(try toolPath("nats-pub"), ["-s", url, subject, "-q", "--send-on", "newline"])
        try pub.start()
        let pubResult = await pub.finish(stdin: Data("alpha\nbeta\ngamma\n".utf8))
        #expect(pubResult.status == 0, "nats-pub: \(pubResult.stderr)")
        let result = await sub.finish()
        #expect(result.status == 0, "nats-sub: \(result.stderr)")
        #expect(result.stdout.split(separator: "\n") == ["alpha", "beta", "gamma"], "\(result.stdout)")
    }

    @Test func replyAnswersReq() async throws {
        let url = try BrokerEnvironment.natsURL()
        let subject = uniqueSubject("tools.rpc")
        let reply = ChildProcess(try toolPath("nats-reply"), ["-s", url, subject, "pong {{Count}}", "--count", "1"])
        try reply.start()
        try await waitForStderr(reply, containing: "Listening on")
        let req = ChildProcess(try toolPath("nats-req"), ["-s", url, subject, "ping", "--timeout", "3s"])
        try req.start()
        let result = await req.finish()
        #expect(result.status == 0, "nats-req: \(result.stderr)")
        #expect(result.stdout.contains("pong 1"), "\(result.stdout)")
        let replyResult = await reply.finish()
        #expect(replyResult.status == 0, "nats-reply: \(replyResult.stderr)")
    }

    @Test func noRespondersExitsOneWithAClearLine() async throws {
        let url = try BrokerEnvironment.natsURL()
        let req = ChildProcess(try toolPath("nats-req"), ["-s", url, uniqueSubject("tools.nobody"), "x"])
        try req.start()
        let result = await req.finish()
        #expect(result.status == 1)
        #expect(result.stderr.contains("no responders"), "\(result.stderr)")
    }

    @Test func usageErrorExitsOneAndConnectionErrorExitsTwo() async throws {
        let bad = ChildProcess(try toolPath("nats-pub"), ["--cuont", "3", "x"])
        try bad.start()
        let badResult = await bad.finish()
        #expect(badResult.status == 1)
        #expect(badResult.stderr.contains("--cuont"), "\(badResult.stderr)")

        let port = try freePort()
        let refused = ChildProcess(try toolPath("nats-pub"), ["-s", "nats://127.0.0.1:\(port)", "x", "y"])
        try refused.start()
        let refusedResult = await refused.finish()
        #expect(refusedResult.status == 2)
        #expect(refusedResult.stderr.contains("127.0.0.1:\(port)"), "\(refusedResult.stderr)")

        for tool in ["nats-pub", "nats-sub", "nats-req", "nats-reply"] {
            let help = ChildProcess(try toolPath(tool), ["--help"])
            try help.start()
            let helpResult = await help.finish()
            #expect(helpResult.status == 0, "\(tool) --help")
            #expect((helpResult.stdout + helpResult.stderr).contains("--server"), "\(tool) --help lacks --server")
        }
    }

    private func waitForStderr(_ child: ChildProcess, containing text: String, timeout: Duration = .seconds(20)) async throws {
        try await child.waitForStderr(containing: text, timeout: timeout)
    }
}
