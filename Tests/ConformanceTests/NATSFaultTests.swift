import Foundation
import Synchronization
import Testing
import TributaryNATS
import TributaryTestSupport

@Suite("NATS faults: server restarts, failover", .serialized)
struct NATSFaultTests {
    /// Kill the server mid-stream on a connection that subscribes to what it publishes:
    /// every publish the API accepted must arrive (duplicates allowed, losses not).
    @Test func killAndRestartDuringPublishStreamLosesNothing() async throws {
        let server = try await NATSServerProcess.plain()
        defer { server.stop() }
        var options = testOptions(server.url)
        options.maxPendingMessages = 1_000_000
        let client = try await NATSClient.connect(options)
        let events = EventRecorder(client)
        let subject = "fault.stream"
        let sub = try client.subscribe(to: subject)
        try await client.flush()

        let received = Mutex<Set<Int>>([])
        let duplicates = Mutex(0)
        let consumer = Task {
            for try await message in sub {
                guard let n = Int(message.string) else { continue }
                let fresh = received.withLock { $0.insert(n).inserted }
                if !fresh { duplicates.withLock { $0 += 1 } }
            }
        }

        var accepted = 0
        var rejected = 0
        let total = 60_000
        for i in 0..<total {
            do {
                try await client.publishWaiting("\(i)", to: subject)
                accepted += 1
            } catch {
                rejected += 1   // reported to the caller: not silent
            }
            if i == 15_000 {
                await server.killed()
            }
            if i == 30_000 {
                try await server.restart()
            }
            if i % 1000 == 0 { try await Task.sleep(for: .milliseconds(2)) }
        }
        try await client.flush(timeout: .seconds(20))
        try await eventually("all accepted publishes to arrive", timeout: .seconds(20)) {
            received.withLock { $0.count } >= accepted
        }
        let got = received.withLock { $0 }
        #expect(rejected == 0, "publishes were rejected while reconnecting (buffer too small for this test)")
        #expect(got.count == accepted, "lost \(accepted - got.count) of \(accepted) accepted publishes")
        #expect(events.count { if case .reconnected = $0 { return true } else { return false } } >= 1)
        print("kill/restart: accepted \(accepted), received \(got.count) distinct, \(duplicates.withLock { $0 }) duplicates re-sent after reconnect")
        consumer.cancel()
        await client.close()
    }

    @Test func subscriptionsAreRestoredBeforeBufferedPublishes() async throws {
        let server = try await NATSServerProcess.plain()
        defer { server.stop() }
        let client = try await NATSClient.connect(testOptions(server.url))
        let events = EventRecorder(client)
        let sub = try client.subscribe(to: "fault.order")
        try await client.flush()
        await server.killed()
        try await eventually("disconnect") {
            events.count { if case .disconnected = $0 { return true } else { return false } } > 0
        }
        // Published while disconnected: buffered, then flushed after the SUB is restored.
        for i in 0..<100 { try client.publish("\(i)", to: "fault.order") }
        try await server.restart()
        let got = try await collect(sub, count: 100, timeout: .seconds(15))
        #expect(got.map(\.string) == (0..<100).map(String.init))
        await client.close()
    }

    @Test func reconnectBufferOverflowIsReportedToTheCaller() async throws {
        let server = try await NATSServerProcess.plain()
        defer { server.stop() }
        var options = testOptions(server.url)
        options.reconnectBufferSize = 64 * 1024
        let client = try await NATSClient.connect(options)
        let events = EventRecorder(client)
        await server.killed()
        try await eventually("disconnect") {
            events.count { if case .disconnected = $0 { return true } else { return false } } > 0
        }
        var overflow: NATSError?
        for _ in 0..<10_000 {
            do { try client.publish([UInt8](repeating: 1, count: 100), to: "fault.overflow") } catch { overflow = error; break }
        }
        #expect(overflow?.code == .reconnectBufferExceeded, "\(String(describing: overflow))")
        await client.close()
    }

    @Test func unconfirmedPublishesAreCountedWhenGivenUp() async throws {
        let server = try await NATSServerProcess.plain()
        var options = testOptions(server.url)
        options.allowReconnect = false
        let client = try await NATSClient.connect(options)
        let events = EventRecorder(client)
        try await client.flush()
        await server.killed()
        try await eventually("closed, with its event") {
            client.isClosed && events.count { if case .closed = $0 { return true } else { return false } } > 0
        }
        #expect(events.count { if case .closed = $0 { return true } else { return false } } == 1)
        do {
            try client.publish("late", to: "fault.lost")
            Issue.record("publish on a closed client accepted")
        } catch {
            #expect(error.code == .connectionClosed)
        }
        await server.stopped()
    }

    @Test func clusterFailoverToALearnedServer() async throws {
        let cluster = try NATSClusterProcess()
        try await cluster.startAll()
        defer { cluster.stopAll() }
        // Configure only the first server; the others are learned from INFO connect_urls.
        var options = testOptions(cluster.urls[0])
        options.noRandomize = true
        let client = try await NATSClient.connect(options)
        let events = EventRecorder(client)
        try await eventually("servers learned from the cluster") { client.knownServers.count >= 3 }
        let sub = try client.subscribe(to: "fault.cluster")
        try await client.flush()
        let first = client.connectedServer
        cluster.stop(0)
        try await eventually("reconnected to another server", timeout: .seconds(15)) {
            events.count { if case .reconnected = $0 { return true } else { return false } } > 0
        }
        #expect(client.connectedServer != first)
        try client.publish("after-failover", to: "fault.cluster")
        let got = try await collect(sub, count: 1)
        #expect(got.first?.string == "after-failover")
        await client.close()
    }
}
