import Foundation
import Testing
import TributaryNATSProtocol
import TributaryWire

/// The connection machine as protocol transcripts: event in, actions out, step by step.
/// Waiters and subscribers are plain strings; time is a value.
@Suite("NATS connection state machine transcripts")
struct NATSConnectionStateMachineTests {
    typealias Machine = NATSConnectionStateMachine<String, String>

    static func info(_ extra: String = "") -> NATSServerInfo {
        let json = #"{"server_id":"S","version":"2.15.1","proto":1,"headers":true,"max_payload":1048576"# + extra + "}"
        return try! JSONDecoder().decode(NATSServerInfo.self, from: Data(json.utf8))
    }

    static func at(_ ms: Int) -> MonotonicInstant { MonotonicInstant(nanoseconds: UInt64(ms) * 1_000_000) }

    static func machine(servers: [String] = ["nats://a:4222", "nats://b:4222"], _ configure: (inout Machine.Configuration) -> Void = { _ in }) -> Machine {
        var configuration = Machine.Configuration()
        configuration.randomize = false
        configuration.inboxPrefix = "_INBOX.T"
        configuration.reconnectJitter = .zero
        configure(&configuration)
        return Machine(configuration: configuration, servers: servers.map { try! NATSServerAddress(parsing: $0) }, seed: 1)
    }

    /// A compact, comparable rendering of actions.
    static func render(_ actions: [Machine.Action]) -> [String] {
        actions.map { action in
            switch action {
            case .connect(let address, _): return "connect \(address.endpoint)"
            case .writeHandshake(let bytes):
                let text = String(decoding: bytes, as: UTF8.self)
                return "handshake " + (text.hasPrefix("CONNECT ") ? "CONNECT+PING" : text.trimmingCharacters(in: .whitespacesAndNewlines))
            case .startTLS(let name): return "startTLS \(name)"
            case .authenticate(let challenge): return "authenticate \(challenge.server) nonce \(challenge.nonce ?? "-") attempt \(challenge.attempt)"
            case .wakeWriter: return "wake"
            case .closeStream: return "closeStream"
            case .succeed(let waiter): return "succeed \(waiter)"
            case .fail(let waiter, let error): return "fail \(waiter) \(error.code)"
            case .respond(let waiter, let message): return "respond \(waiter) \(message.string)"
            case .finish(let subscriber, let error): return "finish \(subscriber)" + (error.map { " \($0.code)" } ?? "")
            case .emit(let event):
                switch event {
                case .connected(let server): return "event connected \(server)"
                case .reconnected(let server): return "event reconnected \(server)"
                case .disconnected(let server, let error): return "event disconnected \(server)" + (error.map { " \($0.code)" } ?? "")
                case .lameDuckMode(let server): return "event lameDuck \(server)"
                case .closed(let error): return "event closed" + (error.map { " \($0.code)" } ?? "")
                case .error(let error): return "event error \(error.code)"
                case .discoveredServers(let urls): return "event discovered \(urls.joined(separator: ","))"
                }
            case .stop: return "stop"
            }
        }
    }

    /// Connects `machine` to its first server at `now`.
    static func connect(_ machine: inout Machine, now: MonotonicInstant = at(0), info: NATSServerInfo = info()) {
        _ = machine.start(waiter: "connect", now: now)
        _ = machine.streamOpened(now: now)
        _ = machine.received(.info(info), now: now)
        _ = machine.received(.pong, now: now)
    }

    /// Takes everything the writer would write, as text.
    static func written(_ machine: inout Machine) -> String {
        var released: [String] = []
        var text = ""
        while let chunk = machine.takeChunk(released: &released) { text += String(decoding: chunk, as: UTF8.self) }
        return text
    }

    static func publish(_ machine: inout Machine, _ payload: String, to subject: String) -> Machine.PublishResult {
        let bytes = Array(payload.utf8)
        let size = NATSEncoder.publishFrameSize(subject: subject, replyTo: nil, headerBytes: 0, payloadBytes: bytes.count)
        return machine.publish(subject: subject, frameSize: size, payloadSize: bytes.count) { buffer in
            bytes.withUnsafeBytes { NATSEncoder.appendPublish(subject: subject, replyTo: nil, payload: $0, into: &buffer) }
        }
    }

    // MARK: Handshake

    @Test func handshakeSendsConnectThenReportsConnected() {
        var m = Self.machine()
        #expect(Self.render(m.start(waiter: "connect", now: Self.at(0))) == ["connect a:4222"])
        #expect(m.status == .connecting)
        #expect(Self.render(m.streamOpened(now: Self.at(1))) == [])
        #expect(Self.render(m.received(.info(Self.info()), now: Self.at(2))) == ["handshake CONNECT+PING"])
        #expect(Self.render(m.received(.pong, now: Self.at(3))) == ["event connected a:4222", "succeed connect"])
        #expect(m.status == .connected)
        #expect(m.maxPayload == 1_048_576)
    }

    @Test func handshakeCarriesCredentialsFromTheURL() {
        var m = Self.machine(servers: ["nats://alice:secret@a:4222"])
        _ = m.start(waiter: "c", now: Self.at(0))
        _ = m.streamOpened(now: Self.at(0))
        guard case .writeHandshake(let bytes)? = m.received(.info(Self.info()), now: Self.at(0)).first else {
            Issue.record("no CONNECT")
            return
        }
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains(#""user":"alice""#) && text.contains(#""pass":"secret""#))
    }

    @Test func authorizationViolationTriesTheNextServerThenFailsConnect() {
        var m = Self.machine()
        _ = m.start(waiter: "connect", now: Self.at(0))
        _ = m.streamOpened(now: Self.at(0))
        _ = m.received(.info(Self.info()), now: Self.at(0))
        #expect(Self.render(m.received(.err("Authorization Violation"), now: Self.at(1))) == ["closeStream", "connect b:4222"])
        _ = m.streamOpened(now: Self.at(2))
        _ = m.received(.info(Self.info()), now: Self.at(2))
        let last = Self.render(m.received(.err("Authorization Violation"), now: Self.at(3)))
        #expect(last == ["closeStream", "closeStream", "fail connect authorizationViolation", "event closed authorizationViolation", "stop"])
    }

    @Test func serverRequiringTLSIsUpgradedBeforeConnect() {
        var m = Self.machine(servers: ["nats://a:4222"])
        _ = m.start(waiter: "connect", now: Self.at(0))
        _ = m.streamOpened(now: Self.at(0))
        #expect(Self.render(m.received(.info(Self.info(#","tls_required":true"#)), now: Self.at(0))) == ["startTLS a"])
        #expect(Self.render(m.tlsEstablished(now: Self.at(1))) == ["handshake CONNECT+PING"])
        #expect(Self.render(m.received(.pong, now: Self.at(2))) == ["event connected a:4222", "succeed connect"])
    }

    @Test func tlsURLToAServerWithoutTLSFailsWithItsOwnCode() {
        var m = Self.machine(servers: ["tls://a:4222"])
        _ = m.start(waiter: "connect", now: Self.at(0))
        _ = m.streamOpened(now: Self.at(0))
        let actions = Self.render(m.received(.info(Self.info()), now: Self.at(0)))
        #expect(actions.contains("fail connect tlsRequired"))
    }

    @Test func tlsFirstStreamSendsConnectAtOnce() {
        var m = Self.machine(servers: ["tls://a:4222"])
        _ = m.start(waiter: "connect", now: Self.at(0))
        _ = m.streamOpened(now: Self.at(0), usesTLS: true)
        #expect(Self.render(m.received(.info(Self.info(#","tls_required":true"#)), now: Self.at(0))) == ["handshake CONNECT+PING"])
    }

    @Test func learnedIPServersKeepTLSAndTheConfiguredName() {
        var m = Self.machine(servers: ["tls://nats.example.com:4222"])
        _ = m.start(waiter: "connect", now: Self.at(0))
        _ = m.streamOpened(now: Self.at(0))
        #expect(Self.render(m.received(.info(Self.info(#","tls_required":true"#)), now: Self.at(0))) == ["startTLS nats.example.com"])
        _ = m.tlsEstablished(now: Self.at(0))
        _ = m.received(.pong, now: Self.at(1))
        // The server announces a peer by IP address; losing the connection moves there.
        _ = m.received(.info(Self.info(#","tls_required":true,"connect_urls":["10.0.0.2:4222"]"#)), now: Self.at(2))
        var actions = Self.render(m.connectionLost(nil, now: Self.at(3)))
        var now = 3
        while !actions.contains(where: { $0.hasPrefix("connect 10.0.0.2") }) && now < 10_000 {
            now += 100
            actions = Self.render(m.timerFired(now: Self.at(now)))
            if actions.contains("connect nats.example.com:4222") {
                _ = m.connectFailed(NATSError(.connectionFailed, "refused"), now: Self.at(now))
            }
        }
        #expect(actions.contains("connect 10.0.0.2:4222"), "\(actions)")
        _ = m.streamOpened(now: Self.at(now))
        #expect(Self.render(m.received(.info(Self.info(#","tls_required":true"#)), now: Self.at(now))) == ["startTLS nats.example.com"])
    }

    @Test func handshakeTimesOutAtTheConnectTimeout() {
        var m = Self.machine(servers: ["nats://a:4222"]) { $0.connectTimeout = .seconds(2) }
        _ = m.start(waiter: "connect", now: Self.at(0))
        _ = m.streamOpened(now: Self.at(0))
        #expect(m.nextDeadline == Self.at(2000))
        #expect(Self.render(m.timerFired(now: Self.at(1999))) == [])
        #expect(Self.render(m.timerFired(now: Self.at(2000))).contains("fail connect connectionFailed"))
    }

    @Test func absurdMaxPayloadIsClampedAndReported() {
        var m = Self.machine()
        _ = m.start(waiter: "connect", now: Self.at(0))
        _ = m.streamOpened(now: Self.at(0))
        let huge = NATSConnectionStateMachineTests.info().with(maxPayload: 1 << 62)
        _ = m.received(.info(huge), now: Self.at(0))
        let actions = Self.render(m.received(.pong, now: Self.at(0)))
        #expect(actions.contains("event error protocolError"))
        #expect(m.maxPayload == Machine.maxPayloadLimit)
    }

    // MARK: Keep-alive

    @Test func unansweredKeepAlivesMakeTheConnectionStale() {
        var m = Self.machine { $0.pingInterval = .seconds(1); $0.maxPingsOutstanding = 2; $0.reconnectWait = .seconds(2) }
        Self.connect(&m)
        #expect(Self.render(m.timerFired(now: Self.at(1000))) == ["wake"])
        #expect(Self.written(&m) == "PING\r\n")
        #expect(Self.render(m.timerFired(now: Self.at(2000))) == ["wake"])
        let stale = Self.render(m.timerFired(now: Self.at(3000)))
        #expect(stale == ["closeStream", "event disconnected a:4222 staleConnection", "connect b:4222"])
    }

    @Test func anyPongResetsTheKeepAliveCount() {
        var m = Self.machine { $0.pingInterval = .seconds(1); $0.maxPingsOutstanding = 1 }
        Self.connect(&m)
        _ = m.timerFired(now: Self.at(1000))
        _ = Self.written(&m)
        _ = m.received(.pong, now: Self.at(1500))
        #expect(Self.render(m.timerFired(now: Self.at(2000))) == ["wake"])
    }

    @Test func serverPingsAreAnsweredAndNeverRetained() {
        var m = Self.machine()
        Self.connect(&m)
        for _ in 0..<100 { #expect(Self.render(m.received(.ping, now: Self.at(1))) == ["wake"]) }
        #expect(Self.written(&m) == String(repeating: "PONG\r\n", count: 100))
        #expect(m.outbound.unconfirmedBytes == 0)
    }

    @Test func aPingFloodThatCannotBeWrittenIsCutOff() {
        var m = Self.machine { $0.maxControlBytes = 600 }
        Self.connect(&m)
        var last: [String] = []
        for _ in 0..<101 { last = Self.render(m.received(.ping, now: Self.at(1))) }
        #expect(last.first == "closeStream")
        #expect(last.contains("event disconnected a:4222 protocolError"))
    }

    // MARK: Reconnect

    @Test func reconnectSendsSubscriptionsWithRemainingCountsThenBufferedPublishes() {
        var m = Self.machine { $0.reconnectWait = .zero }
        Self.connect(&m)
        _ = m.subscribe(subject: "orders.>", queue: nil) { _ in "orders" }
        _ = m.subscribe(subject: "work", queue: "q") { _ in "work" }
        _ = m.unsubscribe(sid: 2, max: 3)
        #expect(Self.written(&m) == "SUB orders.> 1\r\nSUB work q 2\r\nUNSUB 2 3\r\n")
        _ = m.received(.pong, now: Self.at(1))   // (an unrelated PONG is harmless)
        #expect(m.messageReceivedForTest(sid: 2) == "work")
        #expect(Self.publish(&m, "unconfirmed", to: "a") == .appended)
        _ = Self.written(&m)                       // written, never confirmed
        let lost = Self.render(m.connectionLost(NATSError(.connectionFailed, "reset"), now: Self.at(10)))
        #expect(lost == ["closeStream", "event disconnected a:4222 connectionFailed", "connect b:4222"])
        #expect(Self.publish(&m, "while down", to: "b") == .appended)
        #expect(m.status == .reconnecting)
        _ = m.streamOpened(now: Self.at(11))
        _ = m.received(.info(Self.info()), now: Self.at(11))
        #expect(Self.render(m.received(.pong, now: Self.at(12))) == ["event reconnected b:4222", "wake"])
        #expect(Self.written(&m) == "SUB orders.> 1\r\nSUB work q 2\r\nUNSUB 2 2\r\nPUB a 11\r\nunconfirmed\r\nPUB b 10\r\nwhile down\r\n")
    }

    @Test func confirmedBytesAreNotResent() {
        var m = Self.machine { $0.reconnectWait = .zero }
        Self.connect(&m)
        _ = Self.publish(&m, "one", to: "a")
        _ = Self.written(&m)
        _ = m.flush(waiter: "f", timeout: .seconds(1), now: Self.at(0))
        _ = Self.written(&m)
        #expect(Self.render(m.received(.pong, now: Self.at(1))) == ["succeed f"])
        _ = Self.publish(&m, "two", to: "a")
        _ = Self.written(&m)
        _ = m.connectionLost(nil, now: Self.at(2))
        _ = m.streamOpened(now: Self.at(2))
        _ = m.received(.info(Self.info()), now: Self.at(2))
        _ = m.received(.pong, now: Self.at(2))
        #expect(Self.written(&m) == "PUB a 3\r\ntwo\r\n")
    }

    @Test func backoffWaitsBeforeTryingTheSameServerAgain() {
        var m = Self.machine(servers: ["nats://a:4222"]) { $0.reconnectWait = .seconds(2) }
        Self.connect(&m)
        #expect(Self.render(m.connectionLost(nil, now: Self.at(500))) == ["closeStream", "event disconnected a:4222"])
        #expect(m.nextDeadline == Self.at(2000))
        #expect(Self.render(m.timerFired(now: Self.at(2000))) == ["connect a:4222"])
    }

    @Test func attemptsPerServerAreLimited() {
        var m = Self.machine(servers: ["nats://a:4222"]) { $0.reconnectWait = .zero; $0.maxReconnectAttempts = 2 }
        Self.connect(&m)
        _ = m.connectionLost(nil, now: Self.at(1))
        let error = NATSError(.connectionFailed, "refused")
        #expect(Self.render(m.connectFailed(error, now: Self.at(2))) == ["connect a:4222"])
        #expect(Self.render(m.connectFailed(error, now: Self.at(3))) == ["connect a:4222"])
        let last = Self.render(m.connectFailed(error, now: Self.at(4)))
        #expect(last == ["closeStream", "event closed connectionFailed", "stop"])
    }

    @Test func reconnectTimeLimitGivesUpWhateverTheAttemptCount() {
        var m = Self.machine(servers: ["nats://a:4222"]) {
            $0.reconnectWait = .milliseconds(100); $0.maxReconnectAttempts = -1; $0.reconnectTimeLimit = .seconds(1)
        }
        Self.connect(&m)
        _ = m.connectionLost(nil, now: Self.at(0))
        var now = 0
        var gaveUp = false
        let error = NATSError(.connectionFailed, "refused")
        while now < 5000 && !gaveUp {
            now += 100
            let actions = Self.render(m.timerFired(now: Self.at(now)) + m.connectFailed(error, now: Self.at(now)))
            gaveUp = actions.contains("stop")
        }
        #expect(gaveUp)
        #expect(now >= 1000 && now <= 1200)
    }

    @Test func unlimitedAttemptsNeverGiveUp() {
        var m = Self.machine(servers: ["nats://a:4222"]) { $0.reconnectWait = .zero; $0.maxReconnectAttempts = -1 }
        Self.connect(&m)
        _ = m.connectionLost(nil, now: Self.at(0))
        for attempt in 1...1000 {
            #expect(Self.render(m.connectFailed(NATSError(.connectionFailed, "refused"), now: Self.at(attempt))) == ["connect a:4222"])
        }
    }

    @Test func learnedServersInheritCredentials() {
        var m = Self.machine(servers: ["nats://u:p@a:4222"])
        _ = m.start(waiter: "c", now: Self.at(0))
        _ = m.streamOpened(now: Self.at(0))
        _ = m.received(.info(Self.info(#","connect_urls":["c:4222"]"#)), now: Self.at(0))
        let actions = Self.render(m.received(.pong, now: Self.at(0)))
        #expect(actions.contains("event discovered nats://c:4222"))
        #expect(m.knownServers.last?.user == "u")
    }

    // MARK: Buffer bounds

    @Test func oneBoundForPublishAndRequestWhileDisconnected() {
        var m = Self.machine(servers: ["nats://a:4222"]) { $0.reconnectBufferSize = 64; $0.reconnectWait = .seconds(5) }
        Self.connect(&m)
        _ = m.connectionLost(nil, now: Self.at(0))
        #expect(Self.publish(&m, String(repeating: "x", count: 30), to: "s") == .appended)
        guard case .rejected(let error) = Self.publish(&m, String(repeating: "y", count: 30), to: "s") else {
            Issue.record("publish over the bound was not rejected")
            return
        }
        #expect(error.code == .reconnectBufferExceeded)
        let payload = Array(String(repeating: "z", count: 30).utf8)
        let verdict = payload.withUnsafeBytes { m.request(subject: "r", headerBlock: nil, payload: $0, waiter: "req", timeout: .seconds(1), now: Self.at(0)) }
        guard case .rejected(let requestError) = verdict else {
            Issue.record("request over the bound was not rejected")
            return
        }
        #expect(requestError.code == .reconnectBufferExceeded)
    }

    @Test func connectedPublisherWaitsForRoomAndIsResumedWhenTheWriterTakes() {
        var m = Self.machine { $0.reconnectBufferSize = 64 }
        Self.connect(&m)
        #expect(Self.publish(&m, String(repeating: "x", count: 30), to: "s") == .appended)
        #expect(Self.publish(&m, String(repeating: "y", count: 30), to: "s") == .full)
        #expect(Self.render(m.waitForRoom("publisher", frameSize: 42, deadline: Self.at(5000))) == ["wake"])
        var released: [String] = []
        _ = m.takeChunk(released: &released)
        #expect(released == ["publisher"])
        // Still full until the server confirms; the waiter is resumed by the PONG.
        #expect(Self.publish(&m, String(repeating: "y", count: 30), to: "s") == .full)
        _ = m.timerFired(now: Self.at(200))           // confirm delay: a PING goes out
        _ = m.takeChunk(released: &released)
        _ = m.waitForRoom("publisher", frameSize: 42, deadline: Self.at(5000))
        #expect(Self.render(m.received(.pong, now: Self.at(201))) == ["succeed publisher"])
        #expect(Self.publish(&m, String(repeating: "y", count: 30), to: "s") == .appended)
    }

    /// Room that appeared between a full publish and its wait (here a PONG confirmed the bytes)
    /// resumes the waiter at once; before, it slept until its deadline (5 s by default).
    @Test func aWaitForRoomThatCameTooLateIsResumedAtOnce() {
        var m = Self.machine { $0.reconnectBufferSize = 64 }
        Self.connect(&m)
        #expect(Self.publish(&m, String(repeating: "x", count: 30), to: "s") == .appended)
        #expect(Self.publish(&m, String(repeating: "y", count: 30), to: "s") == .full)
        var released: [String] = []
        _ = m.timerFired(now: Self.at(200))           // confirm delay: a PING goes out
        _ = m.takeChunk(released: &released)
        _ = m.received(.pong, now: Self.at(201))     // confirmed before anyone waits
        #expect(m.hasRoom(frameSize: 42))
        #expect(Self.render(m.waitForRoom("publisher", frameSize: 42, deadline: Self.at(5000))) == ["succeed publisher"])
        // A frame that does not fit yet still waits.
        _ = Self.publish(&m, String(repeating: "z", count: 30), to: "s")
        #expect(!m.hasRoom(frameSize: 42))
        #expect(Self.render(m.waitForRoom("publisher", frameSize: 42, deadline: Self.at(5000))) == ["wake"])
    }

    @Test func aWaitForRoomEndsAtItsDeadline() {
        var m = Self.machine { $0.reconnectBufferSize = 64 }
        Self.connect(&m)
        _ = Self.publish(&m, String(repeating: "x", count: 30), to: "s")
        _ = m.waitForRoom("publisher", frameSize: 42, deadline: Self.at(100))
        #expect(m.nextDeadline == Self.at(100))
        #expect(Self.render(m.timerFired(now: Self.at(100))) == ["succeed publisher"])
    }

    // MARK: Requests and flush

    @Test func requestGetsItsReplyOrTimesOut() {
        var m = Self.machine()
        Self.connect(&m)
        let payload = Array("q".utf8)
        _ = payload.withUnsafeBytes { m.request(subject: "svc", headerBlock: nil, payload: $0, waiter: "r1", timeout: .seconds(1), now: Self.at(0)) }
        _ = payload.withUnsafeBytes { m.request(subject: "svc", headerBlock: nil, payload: $0, waiter: "r2", timeout: .seconds(2), now: Self.at(0)) }
        #expect(Self.written(&m) == "SUB _INBOX.T.* 1\r\nPUB svc _INBOX.T.1 1\r\nq\r\nPUB svc _INBOX.T.2 1\r\nq\r\n")
        guard case .response(let waiter) = m.messageReceived(sid: 1, subject: "_INBOX.T.2", status: nil) else {
            Issue.record("reply not routed")
            return
        }
        #expect(waiter == "r2")
        let expired = Self.render(m.timerFired(now: Self.at(1000)))
        #expect(expired.contains("fail r1 timeout") && !expired.contains("fail r2 timeout"))
        guard case .failedRequest(_, let error) = m.messageReceived(sid: 1, subject: "_INBOX.T.1", status: nil) else {
            // A late reply for a timed-out request is dropped.
            return
        }
        Issue.record("late reply routed: \(error)")
    }

    @Test func noRespondersFailsTheRequestAtOnce() {
        var m = Self.machine()
        Self.connect(&m)
        _ = Array("q".utf8).withUnsafeBytes { m.request(subject: "svc", headerBlock: nil, payload: $0, waiter: "r", timeout: .seconds(1), now: Self.at(0)) }
        guard case .failedRequest(let waiter, let error) = m.messageReceived(sid: 1, subject: "_INBOX.T.1", status: 503) else {
            Issue.record("503 not turned into a failure")
            return
        }
        #expect(waiter == "r" && error.code == .noResponders)
    }

    @Test func flushSucceedsOnItsPongAndSurvivesAReconnect() {
        var m = Self.machine { $0.reconnectWait = .zero }
        Self.connect(&m)
        #expect(Self.render(m.flush(waiter: "f", timeout: .seconds(5), now: Self.at(0))) == ["wake"])
        _ = Self.written(&m)
        _ = m.connectionLost(nil, now: Self.at(1))
        _ = m.streamOpened(now: Self.at(1))
        _ = m.received(.info(Self.info()), now: Self.at(1))
        _ = m.received(.pong, now: Self.at(1))          // the handshake's PONG
        #expect(Self.written(&m) == "PING\r\n")         // the flush PING is re-sent
        #expect(Self.render(m.received(.pong, now: Self.at(2))) == ["succeed f"])
    }

    /// Publishes "order" to `orders` `count` times, asking replies on `_INBOX.acks.1`, `.2`, …
    static func publishAwaitingReplies(_ m: inout Machine, count: Int) {
        let bytes = Array("order".utf8)
        for index in 1...count {
            let reply = "_INBOX.acks.\(index)"
            let size = NATSEncoder.publishFrameSize(subject: "orders", replyTo: reply, headerBytes: 0, payloadBytes: bytes.count)
            _ = m.publish(subject: "orders", replyTo: reply, frameSize: size, payloadSize: bytes.count) { buffer in
                bytes.withUnsafeBytes { NATSEncoder.appendPublish(subject: "orders", replyTo: reply, payload: $0, into: &buffer) }
            }
        }
    }

    @Test func aReplyConfirmsThePublishThatAskedForItSoItIsNotResentAfterALoss() {
        var m = Self.machine { $0.reconnectWait = .zero; $0.replyPrefix = "_INBOX." }
        Self.connect(&m)
        _ = m.subscribe(subject: "_INBOX.acks.*", queue: nil) { _ in "acks" }
        Self.publishAwaitingReplies(&m, count: 3)
        _ = Self.written(&m)
        // The server acknowledged the second publish (JetStream's pub ack): it processed 1 and 2.
        guard case .subscriber = m.messageReceived(sid: 1, subject: "_INBOX.acks.2", status: nil) else {
            Issue.record("ack not delivered")
            return
        }
        _ = m.connectionLost(nil, now: Self.at(1))
        _ = m.streamOpened(now: Self.at(1))
        _ = m.received(.info(Self.info()), now: Self.at(1))
        _ = m.received(.pong, now: Self.at(1))
        #expect(Self.written(&m) == "SUB _INBOX.acks.* 1\r\nPUB orders _INBOX.acks.3 5\r\norder\r\n")
    }

    @Test func repliesArrivingOutOfOrderConfirmUpToTheNewestAnswered() {
        var m = Self.machine { $0.reconnectWait = .zero; $0.replyPrefix = "_INBOX." }
        Self.connect(&m)
        _ = m.subscribe(subject: "_INBOX.acks.*", queue: nil) { _ in "acks" }
        Self.publishAwaitingReplies(&m, count: 4)
        _ = Self.written(&m)
        for subject in ["_INBOX.acks.3", "_INBOX.acks.1", "_INBOX.acks.2"] {
            guard case .subscriber = m.messageReceived(sid: 1, subject: subject, status: nil) else {
                Issue.record("ack \(subject) not delivered")
                return
            }
        }
        _ = m.connectionLost(nil, now: Self.at(1))
        _ = m.streamOpened(now: Self.at(1))
        _ = m.received(.info(Self.info()), now: Self.at(1))
        _ = m.received(.pong, now: Self.at(1))
        #expect(Self.written(&m) == "SUB _INBOX.acks.* 1\r\nPUB orders _INBOX.acks.4 5\r\norder\r\n")
    }

    // MARK: Auto-unsubscribe, permissions

    @Test func autoUnsubscribeEndsTheSubscriptionAtItsCount() {
        var m = Self.machine()
        Self.connect(&m)
        _ = m.subscribe(subject: "x", queue: nil) { _ in "sub" }
        _ = m.unsubscribe(sid: 1, max: 2)
        #expect(m.messageReceivedForTest(sid: 1) == "sub")
        #expect(m.messageReceivedForTest(sid: 1) == "sub last")
        #expect(m.messageReceivedForTest(sid: 1) == "drop")
    }

    @Test func subscriptionPermissionViolationEndsThatSubscription() {
        var m = Self.machine()
        Self.connect(&m)
        _ = m.subscribe(subject: "secret.>", queue: nil) { _ in "s" }
        let actions = Self.render(m.received(.err(#"Permissions Violation for Subscription to "secret.>""#), now: Self.at(0)))
        #expect(actions == ["event error permissionViolation", "finish s permissionViolation"])
        #expect(m.isConnected)
    }

    // MARK: Lame duck

    @Test func lameDuckMovesAtARandomMomentWithinTheWindowAfterConfirming() {
        var m = Self.machine { $0.lameDuckWindow = .seconds(10) }
        Self.connect(&m)
        _ = Self.publish(&m, "before", to: "a")
        _ = m.flush(waiter: "f", timeout: .seconds(5), now: Self.at(0))
        _ = Self.written(&m)
        _ = m.received(.pong, now: Self.at(0))
        let ldm = Self.render(m.received(.info(Self.info(#","ldm":true"#)), now: Self.at(0)))
        #expect(ldm == ["event lameDuck a:4222"])
        // At the chosen moment a PING confirms what was written; its PONG moves the client.
        var moveAt = Self.at(0)
        var output = ""
        for _ in 0..<5 where output.isEmpty {
            moveAt = m.nextDeadline ?? moveAt
            _ = m.timerFired(now: moveAt)
            output = Self.written(&m)
        }
        #expect(output == "PING\r\n")
        #expect(moveAt <= Self.at(10_000))
        #expect(m.isConnected)
        #expect(Self.render(m.received(.pong, now: moveAt)) == ["closeStream", "event disconnected a:4222", "connect b:4222"])
        _ = m.streamOpened(now: moveAt)
        _ = m.received(.info(Self.info()), now: moveAt)
        #expect(Self.render(m.received(.pong, now: moveAt)) == ["event reconnected b:4222"])
        #expect(Self.written(&m) == "")                  // nothing re-sent: all was confirmed
    }

    @Test func differentSeedsSpreadTheMove() {
        var moments = Set<UInt64>()
        for seed in 1...8 {
            var configuration = Machine.Configuration()
            configuration.randomize = false
            configuration.lameDuckWindow = .seconds(30)
            var m = Machine(configuration: configuration, servers: [try! NATSServerAddress(parsing: "a:1")], seed: UInt64(seed))
            Self.connect(&m)
            _ = m.received(.info(Self.info(#","ldm":true"#)), now: Self.at(0))
            moments.insert(m.nextDeadline!.nanoseconds)
        }
        #expect(moments.count > 4)
    }

    // MARK: Drain and close

    @Test func drainUnsubscribesEverythingAndRefusesNewSubscriptions() {
        var m = Self.machine()
        Self.connect(&m)
        _ = m.subscribe(subject: "a", queue: nil) { _ in "a" }
        _ = m.subscribe(subject: "b", queue: nil) { _ in "b" }
        _ = Self.written(&m)
        let drained = m.drainStarted()
        #expect(drained.map(\.subscriber) == ["a", "b"])
        #expect(m.status == .draining)
        #expect(Self.written(&m) == "UNSUB 1\r\nUNSUB 2\r\n")
        // Messages in flight still arrive until the subscription is removed.
        #expect(m.messageReceivedForTest(sid: 1) == "a")
        guard case .failure(let error) = m.subscribe(subject: "c", queue: nil, makeSubscriber: { _ in "c" }) else {
            Issue.record("subscribe while draining succeeded")
            return
        }
        #expect(error.code == .connectionClosed)
    }

    @Test func closeWaitsForConfirmationThenFinishesEverything() {
        var m = Self.machine()
        Self.connect(&m)
        _ = m.subscribe(subject: "a", queue: nil) { _ in "sub" }
        _ = Self.publish(&m, "last words", to: "a")
        _ = Self.written(&m)
        #expect(Self.render(m.close(waiter: "close", now: Self.at(0))) == ["wake"])
        #expect(m.status == .closing)
        #expect(Self.written(&m) == "PING\r\n")
        let closed = Self.render(m.received(.pong, now: Self.at(1)))
        #expect(closed == ["closeStream", "finish sub", "event closed", "succeed close", "stop"])
        #expect(m.lostMessages == 0)
    }

    @Test func closeWithoutConfirmationCountsLostMessages() {
        var m = Self.machine()
        Self.connect(&m)
        _ = Self.publish(&m, "one", to: "a")
        _ = Self.publish(&m, "two", to: "a")
        _ = Self.written(&m)
        _ = m.close(waiter: "close", now: Self.at(0))
        let closed = Self.render(m.timerFired(now: Self.at(2000)))
        #expect(closed == ["closeStream", "event error messagesLost", "event closed", "succeed close", "stop"])
        #expect(m.lostMessages == 2)
    }

    @Test func closeRacingAReconnectEndsAtOnceAndTheLateStreamIsClosed() {
        var m = Self.machine { $0.reconnectWait = .zero }
        Self.connect(&m)
        _ = m.flush(waiter: "f", timeout: .seconds(5), now: Self.at(0))
        #expect(Self.render(m.connectionLost(nil, now: Self.at(1))).last == "connect b:4222")
        let closed = Self.render(m.close(waiter: "close", now: Self.at(2)))
        #expect(closed == ["closeStream", "fail f connectionClosed", "event closed", "succeed close", "stop"])
        // The connect that was under way completes after the close: the machine closes it.
        #expect(Self.render(m.streamOpened(now: Self.at(3))) == ["closeStream"])
        #expect(Self.render(m.timerFired(now: Self.at(10_000))) == [])
        guard case .rejected(let error) = Self.publish(&m, "x", to: "a") else {
            Issue.record("publish after close accepted")
            return
        }
        #expect(error.code == .connectionClosed)
    }
}

extension NATSConnectionStateMachine where Subscriber == String {
    /// Routes a message to `sid` and renders where it went.
    mutating func messageReceivedForTest(sid: UInt64) -> String {
        switch messageReceived(sid: sid, subject: "x", status: nil) {
        case .subscriber(let subscriber, let last): return last ? "\(subscriber) last" : subscriber
        case .response: return "response"
        case .failedRequest: return "failedRequest"
        case .drop: return "drop"
        }
    }
}

extension NATSServerInfo {
    func with(maxPayload: Int) -> NATSServerInfo {
        var copy = self
        copy.maxPayload = maxPayload
        return copy
    }
}

extension NATSConnectionStateMachine.PublishResult: Equatable {
    public static func == (lhs: Self, rhs: Self) -> Bool {
        switch (lhs, rhs) {
        case (.appended, .appended), (.full, .full): return true
        case (.rejected(let a), .rejected(let b)): return a.code == b.code
        default: return false
        }
    }
}
