import Foundation
import Synchronization
import Testing
import TributaryNATS
import TributaryTestSupport

/// The client against a scripted server: keep-alive, malformed frames, oversize frames.
/// Every bad frame must close that connection with a typed error — never crash the process.
@Suite("NATS client against a misbehaving server")
struct NATSMisbehavingServerTests {
    func disconnectError(_ events: EventRecorder) -> NATSError? {
        for event in events.all {
            if case .disconnected(_, let error?) = event { return error }
        }
        return nil
    }

    @Test func staleConnectionWhenPingsGoUnanswered() async throws {
        let server = try FakeNATSServer { connection, _ in
            connection.handshake()
            _ = connection.waitForClose()   // never answers keep-alive PINGs; stop() ends it
        }
        defer { server.stop() }
        var options = testOptions(server.url)
        options.pingInterval = .milliseconds(100)
        options.maxPingsOutstanding = 2
        let client = try await NATSClient.connect(options)
        let events = EventRecorder(client)
        try await eventually("stale connection detected") { disconnectError(events) != nil }
        #expect(disconnectError(events)?.code == .staleConnection)
        await client.close()
    }

    @Test(arguments: [
        ("MSG foo 1 abc\r\n", NATSProtocolError.Code.badArguments),
        ("MSG foo 1 5\nhello\r\n", .missingCRLF),
        ("MSG foo 1 3\r\nabcXY", .missingCRLF),
        ("MSG foo 1 999999\r\n", .payloadTooLarge),
        ("BOGUS frame\r\n", .unknownOperation),
        ("HMSG foo 1 9 9\r\nNOTNATS\r\n\r\n", .badHeaders),
    ])
    func malformedFrameClosesTheConnectionWithATypedError(frame: String, code: NATSProtocolError.Code) async throws {
        let server = try FakeNATSServer { connection, index in
            connection.handshake(maxPayload: 1024)
            if index == 0 {
                connection.read(until: "SUB", timeout: .seconds(2))
                connection.send(frame)
                _ = connection.waitForClose()
            } else {
                connection.answerPings()
            }
        }
        defer { server.stop() }
        let client = try await NATSClient.connect(testOptions(server.url))
        let events = EventRecorder(client)
        _ = try client.subscribe(to: "foo")
        try await eventually("protocol error") { disconnectError(events) != nil }
        let error = try #require(disconnectError(events))
        #expect(error.code == .protocolError, "\(error)")
        #expect((error.underlying as? NATSProtocolError)?.code == code, "\(error)")
        // The client reconnects to the (now well-behaved) server.
        try await eventually("reconnected") {
            events.count { if case .reconnected = $0 { return true } else { return false } } > 0
        }
        try await client.flush()
        await client.close()
    }

    @Test func unknownServerErrorClosesWithTheServersText() async throws {
        let server = try FakeNATSServer { connection, index in
            connection.handshake()
            if index == 0 { connection.send("-ERR 'Something Unexpected Happened'\r\n") }
            _ = connection.waitForClose()
        }
        defer { server.stop() }
        let client = try await NATSClient.connect(testOptions(server.url))
        let events = EventRecorder(client)
        try await eventually("server error") { disconnectError(events) != nil }
        let error = try #require(disconnectError(events))
        #expect(error.code == .serverError)
        #expect(error.serverText == "Something Unexpected Happened")
        await client.close()
    }

    @Test func lameDuckInfoMovesToAnotherServer() async throws {
        let second = try FakeNATSServer { connection, _ in
            connection.handshake()
            _ = connection.waitForClose()
        }
        defer { second.stop() }
        let first = try FakeNATSServer { connection, _ in
            connection.handshake(extraInfo: #","connect_urls":["127.0.0.1:\#(second.port)"]"#)
            connection.read(until: "PING", timeout: .milliseconds(300))
            connection.send(#"INFO {"server_id":"FAKE","proto":1,"headers":true,"max_payload":1048576,"ldm":true}"# + "\r\n")
            _ = connection.waitForClose()
        }
        defer { first.stop() }
        var options = testOptions(first.url)
        options.noRandomize = true
        // The move happens at a random moment within this window (spreading a cluster's clients).
        options.lameDuckWindow = .milliseconds(300)
        let client = try await NATSClient.connect(options)
        let events = EventRecorder(client)
        try await eventually("lame duck event and reconnect to the other server") {
            events.count { if case .lameDuckMode = $0 { return true } else { return false } } > 0
                && client.connectedServer == "127.0.0.1:\(second.port)"
        }
        #expect(second.acceptedCount >= 1)
        await client.close()
    }

    @Test func maxReconnectAttemptsEndsInClosedWithAnError() async throws {
        let server = try FakeNATSServer { connection, index in
            guard index == 0 else { return }   // later connections are dropped at once
            connection.handshake()
            // Take the publish without ever confirming it (no PONG), then drop the connection.
            connection.read(until: "orders.x", timeout: .seconds(60))
        }
        defer { server.stop() }
        var options = testOptions(server.url)
        options.maxReconnectAttempts = 2
        options.reconnectWait = .milliseconds(50)
        let client = try await NATSClient.connect(options)
        let events = EventRecorder(client)
        try client.publish("kept until confirmed", to: "orders.x")
        try await eventually("closed after the reconnect attempts") {
            client.isClosed && events.count { if case .closed = $0 { return true } else { return false } } > 0
        }
        let closed = events.all.compactMap { event -> NATSError?? in
            if case .closed(let error) = event { return .some(error) } else { return nil }
        }
        #expect(closed.count == 1)
        #expect(closed.first??.code == .connectionFailed, "\(closed)")
        #expect(client.lostMessageCount == 1, "the unconfirmed publish must be reported")
    }
}
