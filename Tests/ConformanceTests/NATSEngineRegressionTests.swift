import Foundation
import Synchronization
import Testing
import TributaryNATS
import TributaryTestSupport

/// Regressions of the connection engine, against a real nats-server.
@Suite("NATS engine regressions against a real nats-server")
struct NATSEngineRegressionTests {
    /// A handler that takes 1 ms per message with a 1 s keep-alive and 2 outstanding PINGs: the
    /// connection must stay up (the I/O thread keeps reading PONGs) and every message is handled.
    @Test func aBusyHandlerNeverMakesAHealthyConnectionStale() async throws {
        var options = try sharedOptions(try BrokerEnvironment.natsURL())
        options.pingInterval = .seconds(1)
        options.maxPingsOutstanding = 2
        let client = try await NATSClient.connect(options)
        let events = EventRecorder(client)
        let subject = uniqueSubject("busy")
        let handled = Atomic<Int>(0)
        _ = try client.subscribe(to: subject) { _ in
            Thread.sleep(forTimeInterval: 0.001)
            handled.add(1, ordering: .relaxed)
        }
        try await client.flush()
        let publisher = try await connectShared()
        for index in 0..<3_000 { try await publisher.publishWaiting("m\(index)", to: subject) }
        try await publisher.flush()
        try await eventually("all 3,000 handled", timeout: .seconds(30)) { handled.load(ordering: .relaxed) == 3_000 }
        #expect(events.count { if case .disconnected = $0 { return true } else { return false } } == 0)
        await publisher.close()
        await client.close()
    }

    /// Header bytes count against `maxPendingBytes`: a stalled subscription flooded with 32 KiB
    /// headers stays within its byte limit and reports the drops.
    @Test func headerBytesCountAgainstThePendingLimit() async throws {
        var options = try sharedOptions(try BrokerEnvironment.natsURL())
        options.maxPendingBytes = 1 << 20
        let client = try await NATSClient.connect(options)
        let events = EventRecorder(client)
        let subject = uniqueSubject("headers")
        let stalled = try client.subscribe(to: subject)
        try await client.flush()
        var headers = NATSHeaders()
        headers["Blob"] = String(repeating: "h", count: 32 * 1024)
        for _ in 0..<200 { try await client.publishWaiting(Array("x".utf8), to: subject, headers: headers) }
        try await client.flush()
        try await eventually("drops reported") { stalled.droppedCount > 0 }
        // At most 1 MiB of 32 KiB-header messages fit: about 31.
        #expect(stalled.pendingCount <= 32)
        #expect(stalled.pendingCount + stalled.droppedCount == 200)
        // One rate-limited report, not one per dropped batch (events reach the recorder asynchronously).
        func reports() -> Int { events.count { if case .error(let error) = $0 { return error.code == .slowConsumer } else { return false } } }
        try await eventually("the slow-consumer report") { reports() >= 1 }
        #expect(reports() >= 1 && reports() <= 3)
        await client.close()
    }
}
