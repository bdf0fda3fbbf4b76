import Foundation
import Testing
import TributaryNATS
import TributaryTestSupport

/// The servers Tools/brokers.sh starts besides the plain one: a user/password server and a
/// three-node cluster, found through NATS_AUTH_URL and NATS_CLUSTER_URL.
@Suite("Harness-started auth server and cluster")
struct NATSHarnessServersTests {
    @Test func authServerAcceptsTheRecordedCredentialsOnly() async throws {
        let url = try BrokerEnvironment.recorded("NATS_AUTH_URL")
        let client = try await NATSClient.connect(testOptions(url))
        try await client.flush()
        await client.close()

        let address = try NATSServerAddress(parsing: url)
        do {
            _ = try await NATSClient.connect(testOptions("nats://\(address.host):\(address.port)"))
            Issue.record("connected without credentials")
        } catch {
            #expect(error.code == .authorizationViolation)
        }
    }

    @Test func clusterRoutesMessagesBetweenNodes() async throws {
        let urls = try BrokerEnvironment.recorded("NATS_CLUSTER_URL").split(separator: ",").map(String.init)
        #expect(urls.count == 3)
        var firstOptions = testOptions(urls[0])
        firstOptions.noRandomize = true
        let onFirst = try await NATSClient.connect(firstOptions)
        var lastOptions = testOptions(urls[2])
        lastOptions.noRandomize = true
        let onLast = try await NATSClient.connect(lastOptions)
        #expect(onFirst.connectedServer != onLast.connectedServer)
        let subject = uniqueSubject("harness.cluster")
        let sub = try onLast.subscribe(to: subject)
        try await onLast.flush()
        // Route propagation of the interest can take a moment.
        var got: [NATSMessage] = []
        for attempt in 0..<50 where got.isEmpty {
            try onFirst.publish("hop-\(attempt)", to: subject)
            try await onFirst.flush()
            try await Task.sleep(for: .milliseconds(40))
            if sub.pendingCount > 0 { got = try await collect(sub, count: 1) }
        }
        #expect(got.first?.string.hasPrefix("hop-") == true, "no message crossed the cluster")
        // The whole list works as a server list too.
        let pooled = try await NATSClient.connect(testOptions(urls.joined(separator: ",")))
        #expect(pooled.knownServers.count >= 3)
        await pooled.close()
        await onFirst.close()
        await onLast.close()
    }
}
