import Foundation
import Synchronization
import Testing
import TributaryNATS
import TributaryTestSupport

@Suite("NATS core against a real nats-server")
struct NATSCoreConformanceTests {
    @Test func publishSubscribeInOrder() async throws {
        let client = try await connectShared()
        let subject = uniqueSubject("conf.pubsub")
        let sub = try client.subscribe(to: subject)
        try await client.flush()
        for i in 0..<500 { try client.publish("m\(i)", to: subject) }
        let messages = try await collect(sub, count: 500)
        #expect(messages.map(\.string) == (0..<500).map { "m\($0)" })
        #expect(messages.allSatisfy { $0.subject == subject })
        await client.close()
    }

    @Test func wildcards() async throws {
        let client = try await connectShared()
        let base = uniqueSubject("conf.wild")
        let star = try client.subscribe(to: "\(base).*")
        let full = try client.subscribe(to: "\(base).>")
        try await client.flush()
        try client.publish("1", to: "\(base).a")
        try client.publish("2", to: "\(base).a.b")
        try client.publish("3", to: "\(base).c")
        let starred = try await collect(star, count: 2)
        let all = try await collect(full, count: 3)
        #expect(starred.map(\.subject) == ["\(base).a", "\(base).c"])
        #expect(all.map(\.string) == ["1", "2", "3"])
        await client.close()
    }

    @Test func headersWithMultipleValuesArriveIntact() async throws {
        let client = try await connectShared()
        let subject = uniqueSubject("conf.headers")
        let sub = try client.subscribe(to: subject)
        try await client.flush()
        var headers = NATSHeaders()
        headers.append("order-42", for: "Order-Id")
        headers.append("a", for: "X-Multi")
        headers.append("b", for: "X-Multi")
        try client.publish(Array("payload".utf8), to: subject, headers: headers)
        try client.publish([], to: subject, headers: headers)
        let messages = try await collect(sub, count: 2)
        #expect(messages[0].headers == headers)
        #expect(messages[0].headers?.values(for: "X-Multi") == ["a", "b"])
        #expect(messages[0].string == "payload")
        #expect(messages[1].payload.isEmpty)
        #expect(messages[1].headers?["Order-Id"] == "order-42")
        await client.close()
    }

    @Test func queueGroupSpreadsOverThreeMembersWithoutDuplicates() async throws {
        let subject = uniqueSubject("conf.queue")
        var members: [NATSClient] = []
        var subs: [NATSSubscription] = []
        for _ in 0..<3 {
            let member = try await connectShared()
            subs.append(try member.subscribe(to: subject, queue: "workers"))
            try await member.flush()
            members.append(member)
        }
        let publisher = try await connectShared()
        let total = 600
        for i in 0..<total { try publisher.publish("\(i)", to: subject) }
        try await publisher.flush()
        for member in members { try await member.flush() }
        // Every message went to exactly one member: gather everything each member got.
        var seen: [String: Int] = [:]
        var perMember: [Int] = []
        for sub in subs {
            try await Task.sleep(for: .milliseconds(50))
            let pending = sub.pendingCount
            let got = pending > 0 ? try await collect(sub, count: pending) : []
            perMember.append(got.count)
            for message in got { seen[message.string, default: 0] += 1 }
        }
        #expect(perMember.reduce(0, +) == total, "per member: \(perMember)")
        #expect(seen.count == total)
        #expect(seen.values.allSatisfy { $0 == 1 }, "a message reached two members")
        #expect(perMember.allSatisfy { $0 > 0 }, "queue group did not spread: \(perMember)")
        for member in members { await member.close() }
        await publisher.close()
    }

    @Test func requestReplyAndRespondHelper() async throws {
        let responder = try await connectShared()
        let requester = try await connectShared()
        let subject = uniqueSubject("conf.rpc")
        let sub = try responder.subscribe(to: subject)
        try await responder.flush()
        let serving = Task {
            for try await message in sub {
                var headers = NATSHeaders()
                headers["Echo"] = message.headers?["Trace"] ?? "none"
                try responder.respond(to: message, with: Array(("re:" + message.string).utf8), headers: headers)
            }
        }
        var headers = NATSHeaders()
        headers["Trace"] = "t-1"
        for i in 0..<20 {
            let reply = try await requester.request(Array("q\(i)".utf8), to: subject, headers: headers, timeout: .seconds(5))
            #expect(reply.string == "re:q\(i)")
            #expect(reply.headers?["Echo"] == "t-1")
        }
        // Concurrent requests share the one inbox subscription and are matched correctly.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<50 {
                group.addTask {
                    let reply = try await requester.request("c\(i)", to: subject)
                    #expect(reply.string == "re:c\(i)")
                }
            }
            try await group.waitForAll()
        }
        serving.cancel()
        await responder.close()
        await requester.close()
    }

    @Test func handlerSubscriptionDeliversInOrderAndCanRespond() async throws {
        let client = try await connectShared()
        let subject = uniqueSubject("conf.handler")
        let seen = Mutex<[String]>([])
        let sub = try client.subscribe(to: subject) { message in
            seen.withLock { $0.append(message.string) }
            if message.replyTo != nil { try? client.respond(to: message, with: Array("ack:\(message.string)".utf8)) }
        }
        try await client.flush()
        for i in 0..<200 { try client.publish("\(i)", to: subject) }
        try await client.flush()
        try await eventually("200 messages through the handler") { seen.withLock { $0.count } == 200 }
        #expect(seen.withLock { $0 } == (0..<200).map(String.init))
        let reply = try await client.request("q", to: subject, timeout: .seconds(2))
        #expect(reply.string == "ack:q")
        sub.unsubscribe()
        try client.publish("after", to: subject)
        try await client.flush()
        #expect(seen.withLock { $0.last } == "q")
        await client.close()
    }

    /// The server's 503 status ends the request as `noResponders` (only the server says it; a
    /// request that waited out its timeout is `timedOut`, so the code shows it did not wait).
    @Test func noRespondersIsItsOwnError() async throws {
        let client = try await connectShared()
        do {
            _ = try await client.request("x", to: uniqueSubject("conf.nobody"), timeout: .seconds(60))
            Issue.record("expected noResponders")
        } catch {
            #expect(error.code == .noResponders, "\(error)")
        }
        await client.close()
    }

    @Test func requestTimeout() async throws {
        let client = try await connectShared()
        let subject = uniqueSubject("conf.silent")
        let silent = try client.subscribe(to: subject)  // receives but never answers
        try await client.flush()
        do {
            _ = try await client.request("x", to: subject, timeout: .milliseconds(200))
            Issue.record("expected timeout")
        } catch {
            #expect(error.code == .timeout, "\(error)")
        }
        silent.unsubscribe()
        await client.close()
    }

    @Test func autoUnsubscribeAfterMaxMessages() async throws {
        let client = try await connectShared()
        let subject = uniqueSubject("conf.auto")
        let sub = try client.subscribe(to: subject)
        try sub.unsubscribe(after: 5)
        try await client.flush()
        for i in 0..<10 { try client.publish("\(i)", to: subject) }
        try await client.flush()
        var got: [String] = []
        for try await message in sub { got.append(message.string) }  // ends by itself after 5
        #expect(got == ["0", "1", "2", "3", "4"])
        await client.close()
    }

    @Test func drainDeliversMessagesInFlight() async throws {
        let subscriber = try await connectShared()
        let publisher = try await connectShared()
        let subject = uniqueSubject("conf.drain")
        let sub = try subscriber.subscribe(to: subject)
        try await subscriber.flush()
        let total = 20_000
        let counter = Task { () -> Int in
            var count = 0
            for try await _ in sub { count += 1 }
            return count
        }
        for i in 0..<total { try publisher.publish("\(i)", to: subject) }
        try await publisher.flush()
        // Messages are now in flight to (or queued in) the subscriber; drain must deliver all.
        try await subscriber.drain()
        #expect(try await counter.value == total)
        #expect(subscriber.isClosed)
        await publisher.close()
    }

    @Test func subscriptionDrain() async throws {
        let client = try await connectShared()
        let subject = uniqueSubject("conf.subdrain")
        let sub = try client.subscribe(to: subject)
        try await client.flush()
        for i in 0..<1000 { try client.publish("\(i)", to: subject) }
        let counter = Task { () -> Int in
            var count = 0
            for try await _ in sub { count += 1 }
            return count
        }
        try await sub.drain()
        #expect(try await counter.value == 1000)
        #expect(!client.isClosed)
        try await client.flush()
        await client.close()
    }

    @Test func clientSideChecksBeforeSending() async throws {
        let client = try await connectShared()
        let max = client.maxPayload
        #expect(max > 0)
        #expect(throws: NATSError.self) { try client.publish([UInt8](repeating: 0, count: max + 1), to: "conf.big") }
        do {
            try client.publish([UInt8](repeating: 0, count: max + 1), to: "conf.big")
        } catch {
            #expect(error.code == .maxPayloadExceeded)
            #expect(error.message.contains("max_payload"))
        }
        for bad in ["", "a b", "a..b", ".a", "a."] {
            do {
                try client.publish("x", to: bad)
                Issue.record("publish to '\(bad)' should fail")
            } catch {
                #expect(error.code == .invalidSubject)
            }
        }
        do {
            _ = try client.subscribe(to: "a.>.b")
            Issue.record("misplaced wildcard accepted")
        } catch {
            #expect(error.code == .invalidSubject)
        }
        do {
            _ = try client.subscribe(to: "ok", queue: "bad queue")
            Issue.record("invalid queue accepted")
        } catch {
            #expect(error.code == .invalidQueue)
        }
        do {
            try client.publish("x", to: "ok", headers: NATSHeaders([("Bad Name", "v")]))
            Issue.record("invalid header accepted")
        } catch {
            #expect(error.code == .invalidHeaders)
        }
        // The connection is still fine after all the rejected calls.
        try await client.flush()
        #expect(client.isConnected)
        await client.close()
    }

    @Test func slowConsumerDropsAreCountedAndReported() async throws {
        let client = try await connectShared()
        let events = EventRecorder(client)
        let subject = uniqueSubject("conf.slow")
        let sub = try client.subscribe(to: subject, maxPendingMessages: 100)
        try await client.flush()
        for i in 0..<1000 { try client.publish("\(i)", to: subject) }
        try await client.flush()
        #expect(sub.pendingCount <= 100)
        #expect(sub.droppedCount == 1000 - sub.pendingCount)
        try await eventually("slow consumer event") {
            events.count { if case .error(let e) = $0 { return e.code == .slowConsumer } else { return false } } > 0
        }
        await client.close()
    }

    @Test func closeIsIdempotentAndFailsLaterCalls() async throws {
        let client = try await connectShared()
        await client.close()
        await client.close()
        #expect(client.isClosed)
        do {
            try client.publish("x", to: "conf.closed")
            Issue.record("publish after close accepted")
        } catch {
            #expect(error.code == .connectionClosed)
        }
        do {
            try await client.flush()
            Issue.record("flush after close succeeded")
        } catch {
            #expect(error.code == .connectionClosed)
        }
    }

    @Test func connectionRefusedNamesTheServer() async throws {
        let port = try freePort()
        do {
            _ = try await NATSClient.connect(url: "nats://127.0.0.1:\(port)")
            Issue.record("connect to a closed port succeeded")
        } catch {
            #expect(error.code == .connectionFailed)
            #expect(error.description.contains("127.0.0.1:\(port)"))
        }
    }

    @Test func invalidConfigurationNamesTheField() async throws {
        var options = NATSOptions(url: "nats://127.0.0.1:4222")
        options.pingInterval = .zero
        do {
            _ = try await NATSClient.connect(options)
            Issue.record("invalid options accepted")
        } catch {
            #expect(error.code == .invalidConfiguration)
            #expect(error.message.contains("pingInterval"))
        }
        do {
            _ = try await NATSClient.connect(url: "http://x:1")
            Issue.record("bad scheme accepted")
        } catch {
            #expect(error.code == .invalidConfiguration)
        }
    }
}
