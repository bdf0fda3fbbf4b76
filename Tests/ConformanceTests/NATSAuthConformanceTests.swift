import Foundation
import Testing
import TributaryNATS
import TributaryTestSupport

@Suite("NATS authentication and permissions against a real nats-server")
struct NATSAuthConformanceTests {
    @Test func userPasswordFromURLAndOptions() async throws {
        let server = try await NATSServerProcess.withUserPassword(user: "alice", password: "s3cret")
        defer { server.stop() }
        let viaURL = try await NATSClient.connect(testOptions("nats://alice:s3cret@127.0.0.1:\(server.port)"))
        try await viaURL.flush()
        await viaURL.close()

        var options = testOptions(server.url)
        options.user = "alice"
        options.password = "s3cret"
        let viaOptions = try await NATSClient.connect(options)
        try await viaOptions.flush()
        await viaOptions.close()

        do {
            _ = try await NATSClient.connect(testOptions("nats://alice:wrong@127.0.0.1:\(server.port)"))
            Issue.record("wrong password accepted")
        } catch {
            #expect(error.code == .authorizationViolation, "\(error)")
            #expect(!error.description.contains("wrong"), "password leaked into the error text")
        }
        do {
            _ = try await NATSClient.connect(testOptions(server.url))
            Issue.record("missing credentials accepted")
        } catch {
            #expect(error.code == .authorizationViolation, "\(error)")
        }
    }

    @Test func tokenFromURLAndOptions() async throws {
        let server = try await NATSServerProcess.withToken("tok-123")
        defer { server.stop() }
        let viaURL = try await NATSClient.connect(testOptions("nats://tok-123@127.0.0.1:\(server.port)"))
        try await viaURL.flush()
        await viaURL.close()

        var options = testOptions(server.url)
        options.token = "tok-123"
        let viaOptions = try await NATSClient.connect(options)
        try await viaOptions.flush()
        await viaOptions.close()

        do {
            _ = try await NATSClient.connect(testOptions("nats://nope@127.0.0.1:\(server.port)"))
            Issue.record("wrong token accepted")
        } catch {
            #expect(error.code == .authorizationViolation, "\(error)")
        }
    }

    static let permissionsConfig = """
    authorization {
      users = [
        { user: "svc", password: "pw", permissions: {
            publish: { allow: ["orders.>", "_INBOX.>", "rpc.>"], deny: ["orders.secret"] }
            subscribe: { allow: ["orders.>", "_INBOX.>", "rpc.>"] }
        } }
        { user: "noinbox", password: "pw", permissions: {
            publish: { allow: ["rpc.>"] }
            subscribe: { allow: ["rpc.>"] }
        } }
      ]
    }
    """

    @Test func permissionViolationKeepsTheConnectionUp() async throws {
        let server = try await NATSServerProcess.withConfig(Self.permissionsConfig)
        defer { server.stop() }
        let client = try await NATSClient.connect(testOptions("nats://svc:pw@127.0.0.1:\(server.port)"))
        let events = EventRecorder(client)
        let sub = try client.subscribe(to: "orders.>")
        try await client.flush()

        try client.publish("hidden", to: "orders.secret")   // denied by the server
        try client.publish("visible", to: "orders.open")
        try await client.flush()
        try await eventually("permission violation event") {
            events.count { if case .error(let e) = $0 { return e.code == .permissionViolation } else { return false } } > 0
        }
        let got = try await collect(sub, count: 1)
        #expect(got.map(\.string) == ["visible"])
        #expect(client.isConnected)

        // A subscription the server refuses ends with the permission error.
        let refused = try client.subscribe(to: "billing.>")
        do {
            for try await _ in refused { Issue.record("refused subscription delivered a message") }
            Issue.record("refused subscription ended without an error")
        } catch {
            #expect(error.code == .permissionViolation, "\(error)")
        }
        try await client.flush()
        #expect(client.isConnected)
        await client.close()
    }

    @Test func requestToDeniedSubjectFailsAtOnce() async throws {
        let server = try await NATSServerProcess.withConfig(Self.permissionsConfig)
        defer { server.stop() }
        let client = try await NATSClient.connect(testOptions("nats://svc:pw@127.0.0.1:\(server.port)"))
        // A 60-second timeout: the permission error, not the timeout, ends the request.
        do {
            _ = try await client.request("x", to: "orders.secret", timeout: .seconds(60))
            Issue.record("request to a denied subject succeeded")
        } catch {
            #expect(error.code == .permissionViolation, "\(error)")
        }
        await client.close()
    }

    @Test func requestWhoseInboxIsDeniedFailsAtOnce() async throws {
        let server = try await NATSServerProcess.withConfig(Self.permissionsConfig)
        defer { server.stop() }
        let client = try await NATSClient.connect(testOptions("nats://noinbox:pw@127.0.0.1:\(server.port)"))
        do {
            _ = try await client.request("x", to: "rpc.echo", timeout: .seconds(60))
            Issue.record("request with a denied inbox succeeded")
        } catch {
            #expect(error.code == .permissionViolation, "\(error)")
            #expect(error.message.contains("inbox"))
        }
        #expect(client.isConnected)
        await client.close()
    }
}
