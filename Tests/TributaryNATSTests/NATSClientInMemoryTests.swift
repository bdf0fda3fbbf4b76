import TributaryWire
import Foundation
import Synchronization
import Testing
@_spi(TributaryInternal) import TributaryNATS
import TributaryTestSupport

/// The client over an in-memory stream with a scripted server and, where time matters, a
/// manual clock: no nats-server, no network, no waiting for timers.
@Suite("NATS client over an in-memory stream")
struct NATSClientInMemoryTests {
    /// How long a scripted server keeps answering at most. `server.stop()` ends every script when
    /// its test ends, so this only bounds a test that hangs; a short bound failed tests that a
    /// loaded machine (or ThreadSanitizer) kept waiting.
    static let scriptLifetime: Duration = .seconds(600)

    static func options(_ server: InMemoryNATSServer, clock: ManualClock? = nil) -> NATSOptions {
        var options = NATSOptions(url: "nats://memory-a:4222,nats://memory-b:4222")
        options.noRandomize = true
        options.streamFactory = server.streamFactory
        if let clock { options.clock = clock }
        options.reconnectWait = .zero
        options.reconnectJitter = .zero
        return options
    }

    final class Events: Sendable {
        final class Storage: Sendable {
            let events = Locked<[NATSEvent]>([])
        }
        let storage = Storage()
        let task: Task<Void, Never>
        init(_ client: NATSClient) {
            let storage = self.storage
            task = Task { for await event in client.events { storage.events.withLock { $0.append(event) } } }
        }
        func count(_ predicate: (NATSEvent) -> Bool) -> Int { storage.events.withLock { $0.filter(predicate).count } }
        deinit { task.cancel() }
    }

    @Test func subscribeAndReceiveFromAScriptedServer() async throws {
        let server = InMemoryNATSServer { peer, _ in
            peer.handshake()
            let sub = peer.read(until: "SUB orders.> 1\r\n")
            guard sub.contains("SUB orders.> 1") else { return }
            peer.send("MSG orders.created 1 5\r\nhello\r\n")
            peer.answerPings(timeout: Self.scriptLifetime)
        }
        defer { server.stop() }
        let client = try await NATSClient.connect(Self.options(server))
        let sub = try client.subscribe(to: "orders.>")
        let messages = try await collect(sub, count: 1)
        #expect(messages.map(\.string) == ["hello"])
        #expect(messages.first?.subject == "orders.created")
        await client.close()
    }

    /// Messages that arrive while the consumer has not taken the previous batch are moved in
    /// behind it: order, count and pending figures stay right.
    @Test func messagesArrivingBeforeTheLastBatchWasTakenQueueBehindIt() async throws {
        let server = InMemoryNATSServer { peer, _ in
            peer.handshake()
            guard peer.read(until: "SUB orders.> 1\r\n").contains("SUB orders.> 1") else { return }
            peer.send("MSG orders.a 1 2\r\na1\r\nMSG orders.a 1 2\r\na2\r\nMSG orders.a 1 2\r\na3\r\n")
            // The client publishes to "next" once it holds the first three unconsumed.
            guard peer.read(until: "PUB next 0\r\n").contains("PUB next 0") else { return }
            peer.send("MSG orders.b 1 2\r\nb1\r\nHMSG orders.b 1 18 20\r\nNATS/1.0\r\nA: 1\r\n\r\nb2\r\n")
            peer.answerPings(timeout: Self.scriptLifetime)
        }
        defer { server.stop() }
        let client = try await NATSClient.connect(Self.options(server))
        let sub = try client.subscribe(to: "orders.>")
        func waitForPending(_ count: Int) async throws {
            let deadline = ContinuousClock.now.advanced(by: .seconds(60))
            while sub.pendingCount < count, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }
        }
        try await waitForPending(3)
        #expect(sub.pendingCount == 3)
        try await client.publishWaiting([], to: "next")
        try await waitForPending(5)
        #expect(sub.pendingCount == 5)
        let messages = try await collect(sub, count: 5)
        #expect(messages.map(\.string) == ["a1", "a2", "a3", "b1", "b2"])
        #expect(messages.map(\.subject) == ["orders.a", "orders.a", "orders.a", "orders.b", "orders.b"])
        #expect(messages.last?.headers?["A"] == "1")
        #expect(sub.pendingCount == 0)
        await client.close()
    }

    @Test func unansweredPingsMakeTheConnectionStaleOnTheManualClock() async throws {
        let server = InMemoryNATSServer { peer, index in
            peer.handshake()
            if index == 0 {
                _ = peer.waitForClose(timeout: Self.scriptLifetime)   // never answers our PINGs
            } else {
                peer.answerPings(timeout: Self.scriptLifetime)
            }
        }
        defer { server.stop() }
        let clock = ManualClock()
        var options = Self.options(server, clock: clock)
        options.pingInterval = .seconds(60)
        options.maxPingsOutstanding = 2
        let client = try await NATSClient.connect(options)
        let events = Events(client)
        // Each step moves time one ping interval; the I/O thread fires the keep-alive timer on
        // each. Steps that land before the thread ran merge, so step until the outcome shows.
        try await eventually("stale, then reconnected to the second server", timeout: .seconds(30)) {
            clock.advance(by: .seconds(60))
            try await Task.sleep(for: .milliseconds(10))
            return events.count { if case .disconnected(_, let error) = $0 { return error?.code == .staleConnection } else { return false } } == 1
                && events.count { if case .reconnected = $0 { return true } else { return false } } == 1
        }
        #expect(client.connectedServer == "memory-b:4222")
        #expect(server.acceptedCount == 2)
        await client.close()
    }

    @Test func everyEventStreamSeesEveryEventAndEndsWithTheClient() async throws {
        let server = InMemoryNATSServer { peer, index in
            peer.handshake()
            if index == 0 {
                _ = peer.read(until: "SUB drop.now 1\r\n")     // then the first connection drops
            } else {
                peer.answerPings(timeout: Self.scriptLifetime)
            }
        }
        defer { server.stop() }
        var options = Self.options(server)
        // Under ThreadSanitizer's slowdown a 2 s handshake can time out; the client would then
        // start on memory-b and never reconnect, which is not what this test is about.
        options.connectTimeout = .seconds(30)
        let client = try await NATSClient.connect(options)
        try #require(client.connectedServer == "memory-a:4222", "the first connection goes to memory-a")
        let first = client.eventStream()
        let second = client.eventStream()
        func reader(_ stream: AsyncStream<NATSEvent>) -> Task<[String], Never> {
            Task {
                var seen: [String] = []
                for await event in stream {
                    switch event {
                    case .reconnected: seen.append("reconnected")
                    case .closed: seen.append("closed")
                    default: break
                    }
                }
                return seen
            }
        }
        let a = reader(first), b = reader(second)
        _ = try client.subscribe(to: "drop.now")
        try await eventually("reconnected to the second server") { client.connectedServer == "memory-b:4222" && client.isConnected }
        await client.close()
        // Both streams end when the client closes (the tasks return), each having seen every event:
        // the reconnect, then the close. (On a loaded machine the in-memory connection can be
        // declared stale and replaced once more; both streams must then show that too.)
        let seenA = await a.value, seenB = await b.value
        #expect(seenA == seenB, "\(seenA) vs \(seenB)")
        #expect(seenA.first == "reconnected" && seenA.last == "closed" && seenA.dropLast().allSatisfy { $0 == "reconnected" }, "\(seenA)")
        var late = client.eventStream().makeAsyncIterator()
        #expect(await late.next() == nil, "a stream asked for after the end ends at once")
    }

    /// A finished script's descriptor is closed, and its number can go to any new socket of the
    /// process (another test's connection). `stop()` must shut down only the scripts still
    /// running: it once shut down every descriptor it had ever handed out, and a test running
    /// beside it saw its nats-server connection fail with "broken pipe".
    @Test func stopLeavesSocketsThatReuseAFinishedScriptsNumbersAlone() throws {
        let server = InMemoryNATSServer { _, _ in }     // the script ends at once
        let stream = try server.streamFactory("memory-a", 4222, .seconds(5))
        defer { stream.close() }
        // The peer end is closed once the client end reads the end of the stream.
        var pfd = pollfd(fd: stream.descriptor, events: Int16(POLLIN), revents: 0)
        var byte: UInt8 = 0
        var ended = false
        for _ in 0..<600 where !ended {
            if poll(&pfd, 1, 100) > 0 { ended = recv(stream.descriptor, &byte, 1, 0) == 0 }
        }
        try #require(ended, "the scripted peer closed its end")
        // New sockets take the lowest free numbers, the finished peer's among them.
        var pairs: [[Int32]] = []
        defer { for pair in pairs { close(pair[0]); close(pair[1]) } }
        for _ in 0..<32 {
            var fds: [Int32] = [0, 0]
            try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
            pairs.append(fds)
        }
        server.stop()
        for pair in pairs {
            var one: UInt8 = 7
            #expect(send(pair[0], &one, 1, Int32(MSG_NOSIGNAL)) == 1, "descriptor \(pair[0]) was shut down by stop()")
        }
    }

    @Test func requestTimesOutOnTheManualClock() async throws {
        let server = InMemoryNATSServer { peer, _ in
            peer.handshake()
            peer.answerPings(timeout: Self.scriptLifetime)
        }
        defer { server.stop() }
        let clock = ManualClock()
        let client = try await NATSClient.connect(Self.options(server, clock: clock))
        let request = Task { () -> NATSError.Code? in
            do {
                _ = try await client.request("ping", to: "nobody.home", timeout: .seconds(30))
                return nil
            } catch let error as NATSError {
                return error.code
            } catch {
                return nil
            }
        }
        try await Task.sleep(for: .milliseconds(50))
        clock.advance(by: .seconds(29))
        try await Task.sleep(for: .milliseconds(50))
        clock.advance(by: .seconds(1))
        #expect(await request.value == NATSError.Code.timeout)
        await client.close()
    }

    /// The internal I/O-thread delivery (JetStream's acknowledgements): in order, nothing queued,
    /// beside an ordinary subscription whose messages arrive in the same read.
    @Test func anIOThreadSubscriptionGetsItsMessagesInOrderBesideAQueuedOne() async throws {
        let server = InMemoryNATSServer { peer, _ in
            peer.handshake()
            guard peer.read(until: "SUB other 2\r\n").contains("SUB other 2") else { return }
            peer.send("MSG acks.1 1 1\r\na\r\nMSG acks.2 1 1\r\nb\r\nMSG other 2 1\r\nx\r\nMSG acks.3 1 1\r\nc\r\n")
            peer.send("MSG acks.4 1 1\r\nd\r\nMSG acks.5 1 1\r\ne\r\n")
            peer.answerPings(timeout: Self.scriptLifetime)
        }
        defer { server.stop() }
        let client = try await NATSClient.connect(Self.options(server))
        let seen = Locked<[String]>([])
        let acks = try client.subscribeOnIOThread(to: "acks.*", handler: { message in
            seen.withLock { $0.append(message.subject + "=" + message.string) }
        })
        let other = try client.subscribe(to: "other")
        #expect(try await collect(other, count: 1).map(\.string) == ["x"])
        try await eventually("every acknowledgement was handled") { seen.withLock { $0.count } == 5 }
        #expect(seen.withLock { $0 } == ["acks.1=a", "acks.2=b", "acks.3=c", "acks.4=d", "acks.5=e"])
        #expect(acks.pendingCount == 0)
        await client.close()
    }

    @Test func aSlowHandlerDelaysOnlyItsOwnSubscription() async throws {
        let server = InMemoryNATSServer { peer, _ in
            peer.handshake()
            _ = peer.read(until: "SUB fast 2\r\n")
            var burst = ""
            for index in 0..<20 { burst += "MSG slow 1 1\r\n\(index % 10)\r\n" }
            burst += "MSG fast 2 4\r\nfast\r\n"
            peer.send(burst)
            peer.answerPings(timeout: Self.scriptLifetime)
        }
        defer { server.stop() }
        let client = try await NATSClient.connect(Self.options(server))
        let handled = Atomic<Int>(0)
        let gateTimedOut = Atomic<Bool>(false)
        let gate = DispatchSemaphore(value: 0)
        _ = try client.subscribe(to: "slow") { _ in
            // The first message blocks its handler until the fast subscription has had its
            // message. If the fast one had to wait for this handler, the gate times out.
            if handled.load(ordering: .relaxed) == 0, gate.wait(timeout: .now() + 60) == .timedOut {
                gateTimedOut.store(true, ordering: .relaxed)
            }
            handled.add(1, ordering: .relaxed)
        }
        let fast = try client.subscribe(to: "fast")
        let got = try await collect(fast, count: 1)
        #expect(got.map(\.string) == ["fast"])
        #expect(handled.load(ordering: .relaxed) == 0)
        gate.signal()
        try await eventually("the slow handler catches up") { handled.load(ordering: .relaxed) == 20 }
        let timedOut = gateTimedOut.load(ordering: .relaxed)
        #expect(!timedOut, "the fast subscription waited for the slow handler")
        await client.close()
    }

    @Test func aServerFloodingPingsGetsPongsAndTheClientStaysConnected() async throws {
        let pongs = Atomic<Int>(0)
        let server = InMemoryNATSServer { peer, _ in
            peer.handshake()
            peer.send(String(repeating: "PING\r\n", count: 20_000))
            var seen = 0
            var carry = ""
            while seen < 20_000 {
                let text = peer.read(until: "PONG\r\n", timeout: .seconds(60))
                if text.isEmpty { break }
                seen += (carry + text).components(separatedBy: "PONG\r\n").count - 1
                carry = String((carry + text).suffix(5))
            }
            pongs.store(seen, ordering: .relaxed)
            peer.answerPings(timeout: Self.scriptLifetime)
        }
        defer { server.stop() }
        let client = try await NATSClient.connect(Self.options(server))
        try await eventually("every PING answered") { pongs.load(ordering: .relaxed) >= 20_000 }
        #expect(client.isConnected)
        try await client.flush()
        await client.close()
    }

    @Test func handlerPublishingRepliesNeverDeadlocksOnAFullBuffer() async throws {
        let replies = Atomic<Int>(0)
        let server = InMemoryNATSServer { peer, _ in
            peer.handshake()
            _ = peer.read(until: "SUB svc 1\r\n")
            // 2,000 requests of 1 KiB replies each into a small outbound buffer; read replies slowly.
            var burst = ""
            for index in 0..<2_000 { burst += "MSG svc 1 _INBOX.r.\(index) 1\r\nq\r\n" }
            peer.send(burst)
            var seen = 0
            var carryPub = "", carryPing = ""
            while seen < 2_000 {
                let text = peer.read(until: "\r\n", timeout: .seconds(120))
                if text.isEmpty { break }
                // Count frames across read boundaries: each carry is one shorter than its pattern.
                seen += (carryPub + text).components(separatedBy: "PUB _INBOX.r.").count - 1
                for _ in 0..<((carryPing + text).components(separatedBy: "PING\r\n").count - 1) { peer.send("PONG\r\n") }
                carryPub = String((carryPub + text).suffix(12))
                carryPing = String((carryPing + text).suffix(5))
            }
            replies.store(seen, ordering: .relaxed)
            peer.answerPings(timeout: Self.scriptLifetime)
        }
        defer { server.stop() }
        var options = Self.options(server)
        options.reconnectBufferSize = 64 * 1024
        let client = try await NATSClient.connect(options)
        let body = [UInt8](repeating: 0x61, count: 1024)
        let failures = Atomic<Int>(0)
        _ = try client.subscribe(to: "svc") { request in
            do { try client.respond(to: request, with: body) } catch { failures.add(1, ordering: .relaxed) }
        }
        try await eventually("all replies sent", timeout: .seconds(60)) { replies.load(ordering: .relaxed) >= 2_000 }
        #expect(failures.load(ordering: .relaxed) == 0)
        await client.close()
    }

    @Test func anAbsurdMaxPayloadIsClampedAndReported() async throws {
        let server = InMemoryNATSServer { peer, _ in
            peer.handshake(maxPayload: 1 << 62)
            peer.answerPings(timeout: Self.scriptLifetime)
        }
        defer { server.stop() }
        let client = try await NATSClient.connect(Self.options(server))
        #expect(client.maxPayload == 64 * 1024 * 1024)
        let big = [UInt8](repeating: 0, count: 64 * 1024 * 1024 + 1)
        #expect(throws: NATSError.self) { try client.publish(big, to: "x") }
        await client.close()
    }

    @Test func syncPublishFromATaskFailsFastWhenFullAndPublishWaitingSuspends() async throws {
        let server = InMemoryNATSServer { peer, _ in
            peer.handshake()
            Thread.sleep(forTimeInterval: 0.5)     // read nothing for a while: the buffer fills
            peer.answerPings(timeout: Self.scriptLifetime)
        }
        defer { server.stop() }
        var options = Self.options(server)
        options.reconnectBufferSize = 256 * 1024
        let client = try await NATSClient.connect(options)
        let payload = [UInt8](repeating: 0x62, count: 16 * 1024)
        var sawFull = false
        for _ in 0..<200 {
            do { try client.publish(payload, to: "bulk") } catch {
                #expect(error.code == .outboundBufferFull)
                #expect(error.message.contains("publishWaiting"))
                sawFull = true
                break
            }
        }
        #expect(sawFull)
        for _ in 0..<100 { try await client.publishWaiting(payload, to: "bulk") }
        try await client.flush()
        await client.close()
        #expect(client.lostMessageCount == 0)
    }
}

/// The inbox and token generator (nuid): format, uniqueness, and a new prefix when the
/// sequence runs out.
@Suite("NUID tokens")
struct NUIDTests {
    static let alphabet = Set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    @Test func tokensAre22Base62CharactersAndNeverRepeat() {
        var random = SeededGenerator(seed: 7)
        var generator = NUID(using: &random)
        var seen = Set<String>()
        for _ in 0..<200_000 {
            let token = generator.next(using: &random)
            #expect(token.utf8.count == 22)
            #expect(token.utf8.allSatisfy(Self.alphabet.contains))
            seen.insert(token)
        }
        #expect(seen.count == 200_000)
        #expect(Set(seen.map { $0.prefix(12) }).count == 1, "one prefix until the sequence runs out")
    }

    /// Draws the largest value every time: the sequence starts at its last value.
    struct Highest: RandomNumberGenerator {
        mutating func next() -> UInt64 { .max }
    }

    @Test func aSpentSequenceTakesANewPrefix() {
        var highest = Highest()
        var generator = NUID(using: &highest)
        var random = SeededGenerator(seed: 11)
        let first = generator.next(using: &random)
        #expect(first.prefix(12) != "zzzzzzzzzzzz", "the sequence ran out on the first token, so the prefix was drawn again")
        let second = generator.next(using: &random)
        #expect(first != second && first.prefix(12) == second.prefix(12))
    }

    @Test func theProcessWideGeneratorNeverRepeats() {
        let tokens = (0..<1_000).map { _ in NUID.next() }
        #expect(Set(tokens).count == 1_000)
    }
}
