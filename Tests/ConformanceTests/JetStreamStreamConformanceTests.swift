import Foundation
import Testing
import TributaryJetStream
import TributaryNATS
import TributaryTestSupport

/// A unique stream name and subject prefix for one test.
func uniqueStream(_ prefix: String) -> (name: String, subject: String) {
    let token = "\(UInt32.random(in: 0...UInt32.max))\(UInt32.random(in: 0...UInt32.max))"
    return ("\(prefix)_\(token)", "js.\(prefix.lowercased()).\(token)")
}

/// Connects to the shared server and makes a JetStream context.
func connectJetStream(_ options: JetStreamOptions = JetStreamOptions()) async throws -> (NATSClient, JetStreamContext) {
    let client = try await connectShared()
    return (client, try JetStreamContext(client: client, options: options))
}

@Suite("JetStream streams and publishing against a real nats-server")
struct JetStreamStreamConformanceTests {
    @Test func createInfoUpdateDelete() async throws {
        let (client, js) = try await connectJetStream()
        let (name, subject) = uniqueStream("CRUD")
        let created = try await js.createStream(StreamConfig(name: name, subjects: ["\(subject).>"], maxMsgs: 100, maxAge: .seconds(3600)))
        #expect(created.config.name == name)
        #expect(created.config.maxAge == .seconds(3600))
        #expect(created.config.retention == .limits)
        #expect(created.config.storage == .file)
        #expect(created.state.messages == 0)
        // Same configuration again: succeeds.
        _ = try await js.createStream(StreamConfig(name: name, subjects: ["\(subject).>"], maxMsgs: 100, maxAge: .seconds(3600)))
        // Another configuration under the same name: typed API error.
        let exists = await #expect(throws: JetStreamError.self) {
            try await js.createStream(StreamConfig(name: name, subjects: ["\(subject).other"]))
        }
        #expect(exists?.apiErrorCode == .streamNameExist)
        #expect(exists?.status == 400)

        var config = created.config
        config.maxMsgs = 50
        config.description = "updated"
        let updated = try await js.updateStream(config)
        #expect(updated.config.maxMsgs == 50 && updated.config.description == "updated")
        let info = try await js.streamInfo(name)
        #expect(info.config.maxMsgs == 50)

        try await js.deleteStream(name)
        let gone = await #expect(throws: JetStreamError.self) { try await js.streamInfo(name) }
        #expect(gone?.code == .streamNotFound)
        #expect(gone?.apiErrorCode == .streamNotFound)
        #expect(gone?.apiSubject == "$JS.API.STREAM.INFO.\(name)")
        await client.close()
    }

    @Test func streamNotFoundIsTypedForEveryCall() async throws {
        let (client, js) = try await connectJetStream()
        let name = uniqueStream("MISSING").name
        let calls: [(String, @Sendable () async throws -> Void)] = [
            ("info", { _ = try await js.streamInfo(name) }),
            ("delete", { try await js.deleteStream(name) }),
            ("purge", { try await js.purgeStream(name) }),
            ("update", { try await js.updateStream(StreamConfig(name: name)) }),
            ("get", { _ = try await js.getMessage(stream: name, sequence: 1) }),
            ("delete message", { try await js.deleteMessage(stream: name, sequence: 1) }),
        ]
        for (label, call) in calls {
            let error = await #expect(throws: JetStreamError.self, "\(label)") { try await call() }
            #expect(error?.code == .streamNotFound, "\(label): \(String(describing: error))")
        }
        await client.close()
    }

    @Test func accountInfoDomainAndCustomPrefix() async throws {
        let (client, js) = try await connectJetStream()
        let account = try await js.accountInfo()
        #expect(account.limits != nil)
        var prefixed = JetStreamOptions()
        prefixed.apiPrefix = "$JS.API."
        let explicit = try JetStreamContext(client: client, options: prefixed)
        #expect(explicit.apiPrefix == "$JS.API")
        _ = try await explicit.accountInfo()
        var elsewhere = JetStreamOptions()
        elsewhere.domain = "nowhere"
        elsewhere.requestTimeout = .seconds(2)
        let wrongDomain = try JetStreamContext(client: client, options: elsewhere)
        #expect(wrongDomain.apiPrefix == "$JS.nowhere.API")
        let error = await #expect(throws: JetStreamError.self) { try await wrongDomain.streamNames() }
        #expect(error?.code == .noResponders)
        #expect(error?.apiSubject == "$JS.nowhere.API.STREAM.NAMES")
        #expect(error?.message.contains("domain or API prefix") == true)
        var invalid = JetStreamOptions()
        invalid.domain = "a.b"
        #expect(throws: JetStreamError.self) { try JetStreamContext(client: client, options: invalid) }
        await client.close()
    }

    @Test func invalidNamesFailBeforeSending() async throws {
        let (client, js) = try await connectJetStream()
        for bad in ["", "a.b", "a b", "a*", "a>", "a/b"] {
            let error = await #expect(throws: JetStreamError.self) { try await js.createStream(StreamConfig(name: bad)) }
            #expect(error?.code == .invalidArgument)
        }
        await client.close()
    }

    @Test func publishAcknowledgedWithSequences() async throws {
        let (client, js) = try await connectJetStream()
        let (name, subject) = uniqueStream("PUB")
        try await js.createStream(StreamConfig(name: name, subjects: ["\(subject).>"]))
        for index in 1...5 {
            let ack = try await js.publish("m\(index)", to: "\(subject).a")
            #expect(ack.stream == name)
            #expect(ack.sequence == UInt64(index))
            #expect(!ack.isDuplicate)
        }
        let info = try await js.streamInfo(name)
        #expect(info.state.messages == 5 && info.state.lastSeq == 5)
        try await js.deleteStream(name)
        await client.close()
    }

    @Test func publishWithoutStreamFailsAfterRetries() async throws {
        var options = JetStreamOptions()
        options.publishRetryAttempts = 2
        options.publishRetryWait = .milliseconds(10)
        let (client, js) = try await connectJetStream(options)
        let error = await #expect(throws: JetStreamError.self) { try await js.publish("x", to: uniqueSubject("js.nostream")) }
        #expect(error?.code == .noResponders)
        #expect(error?.message.contains("after 2 attempt(s)") == true)
        await client.close()
    }

    @Test func dedupeInsideTheWindow() async throws {
        let (client, js) = try await connectJetStream()
        let (name, subject) = uniqueStream("DEDUPE")
        try await js.createStream(StreamConfig(name: name, subjects: ["\(subject).>"], duplicateWindow: .seconds(60)))
        let first = try await js.publish("order", to: "\(subject).o", options: JetStreamPublishOptions(messageID: "order-1"))
        let again = try await js.publish("order", to: "\(subject).o", options: JetStreamPublishOptions(messageID: "order-1"))
        let other = try await js.publish("order", to: "\(subject).o", options: JetStreamPublishOptions(messageID: "order-2"))
        #expect(!first.isDuplicate && first.sequence == 1)
        #expect(again.isDuplicate && again.sequence == 1)
        #expect(!other.isDuplicate && other.sequence == 2)
        #expect(try await js.streamInfo(name).state.messages == 2)
        try await js.deleteStream(name)
        await client.close()
    }

    @Test func expectationsFailWithTheirOwnCode() async throws {
        let (client, js) = try await connectJetStream()
        let (name, subject) = uniqueStream("EXPECT")
        try await js.createStream(StreamConfig(name: name, subjects: ["\(subject).>"]))
        try await js.publish("a", to: "\(subject).x", options: JetStreamPublishOptions(messageID: "id-a", expectedStream: name, expectedLastSequence: 0))
        try await js.publish("b", to: "\(subject).y", options: JetStreamPublishOptions(expectedLastSequence: 1, expectedLastSubjectSequence: 0, expectedLastMessageID: "id-a"))

        let failures: [(String, JetStreamPublishOptions, JetStreamAPIErrorCode)] = [
            ("stream", JetStreamPublishOptions(expectedStream: "OTHER"), .streamNotMatch),
            ("last sequence", JetStreamPublishOptions(expectedLastSequence: 1), .streamWrongLastSequence),
            ("last subject sequence", JetStreamPublishOptions(expectedLastSubjectSequence: 0), .streamWrongLastSequence),
            ("last msg id", JetStreamPublishOptions(expectedLastMessageID: "id-a"), .streamWrongLastMsgID),
        ]
        for (label, options, apiCode) in failures {
            let error = await #expect(throws: JetStreamError.self, "\(label)") { try await js.publish("c", to: "\(subject).x", options: options) }
            #expect(error?.code == .expectationFailed, "\(label): \(String(describing: error))")
            #expect(error?.apiErrorCode == apiCode, "\(label): \(String(describing: error?.apiErrorCode))")
        }
        #expect(try await js.streamInfo(name).state.messages == 2, "failed expectations store nothing")
        try await js.deleteStream(name)
        await client.close()
    }

    @Test func purgeVariants() async throws {
        let (client, js) = try await connectJetStream()
        let (name, subject) = uniqueStream("PURGE")
        try await js.createStream(StreamConfig(name: name, subjects: ["\(subject).>"]))
        func fill() async throws {
            for index in 0..<10 { try await js.publish("\(index)", to: "\(subject).\(index % 2 == 0 ? "even" : "odd")") }
        }
        try await fill()                                   // seq 1...10
        #expect(try await js.purgeStream(name, subject: "\(subject).even") == 5)
        #expect(try await js.streamInfo(name).state.messages == 5)
        #expect(try await js.purgeStream(name, keep: 2) == 3)
        let kept = try await js.streamInfo(name)
        #expect(kept.state.messages == 2 && kept.state.firstSeq == 8)
        try await fill()                                   // seq 11...20
        #expect(try await js.purgeStream(name, upToSequence: 15) == 6, "8, 10, 11, 12, 13, 14 go")
        #expect(try await js.streamInfo(name).state.firstSeq == 15)
        #expect(try await js.purgeStream(name, subject: "\(subject).odd", keep: 1) == 2, "odd 15, 17 go; 19 stays")
        #expect(try await js.purgeStream(name) == 4)
        #expect(try await js.streamInfo(name).state.messages == 0)
        let both = await #expect(throws: JetStreamError.self) { try await js.purgeStream(name, keep: 1, upToSequence: 2) }
        #expect(both?.code == .invalidArgument)
        try await js.deleteStream(name)
        await client.close()
    }

    @Test(arguments: [false, true])
    func getAndDeleteMessages(allowDirect: Bool) async throws {
        let (client, js) = try await connectJetStream()
        let (name, subject) = uniqueStream(allowDirect ? "DIRECT" : "MSGGET")
        try await js.createStream(StreamConfig(name: name, subjects: ["\(subject).>"], allowDirect: allowDirect))
        var headers = NATSHeaders()
        headers["Order-Id"] = "o-7"
        try await js.publish("first", to: "\(subject).a", headers: headers)
        try await js.publish("second", to: "\(subject).b")
        try await js.publish("third", to: "\(subject).a")

        let bySequence = try await js.getMessage(stream: name, sequence: 1)
        #expect(bySequence.subject == "\(subject).a" && bySequence.sequence == 1 && bySequence.string == "first")
        #expect(bySequence.headers?["Order-Id"] == "o-7")
        #expect(!bySequence.time.isEmpty)
        let last = try await js.getLastMessage(stream: name, subject: "\(subject).a")
        #expect(last.sequence == 3 && last.string == "third")

        let missing = await #expect(throws: JetStreamError.self) { try await js.getMessage(stream: name, sequence: 99) }
        #expect(missing?.code == .messageNotFound)
        let noSubject = await #expect(throws: JetStreamError.self) { try await js.getLastMessage(stream: name, subject: "\(subject).zzz") }
        #expect(noSubject?.code == .messageNotFound)

        try await js.deleteMessage(stream: name, sequence: 2)
        let deleted = await #expect(throws: JetStreamError.self) { try await js.getMessage(stream: name, sequence: 2) }
        #expect(deleted?.code == .messageNotFound)
        try await js.deleteMessage(stream: name, sequence: 3, erase: false)
        #expect(try await js.streamInfo(name).state.messages == 1)
        let again = await #expect(throws: JetStreamError.self) { try await js.deleteMessage(stream: name, sequence: 3) }
        #expect(again?.code == .apiError)
        try await js.deleteStream(name)
        await client.close()
    }

    @Test func namesListAndSubjectPaging() async throws {
        let (client, js) = try await connectJetStream()
        let prefix = uniqueStream("LIST")
        var created: [String] = []
        for index in 0..<3 {
            let name = "\(prefix.name)_\(index)"
            try await js.createStream(StreamConfig(name: name, subjects: ["\(prefix.subject).\(index).>"]))
            created.append(name)
        }
        let names = try await js.streamNames()
        #expect(Set(created).isSubset(of: Set(names)))
        let filtered = try await js.streamNames(subject: "\(prefix.subject).1.x")
        #expect(filtered == [created[1]])
        let infos = try await js.streams()
        #expect(Set(created).isSubset(of: Set(infos.map(\.config.name))))

        // Per-subject counts come back for every subject, with their counts.
        for index in 0..<300 { try await js.publish("x", to: "\(prefix.subject).0.s\(index)") }
        try await js.publish("x", to: "\(prefix.subject).0.s0")
        let info = try await js.streamInfo(created[0], subjectsFilter: ">")
        #expect(info.state.subjects?.count == 300)
        #expect(info.state.subjects?["\(prefix.subject).0.s0"] == 2)
        for name in created { try await js.deleteStream(name) }
        await client.close()
    }

    @Test func asyncPublishWindowAndWaitForAll() async throws {
        var options = JetStreamOptions()
        options.maxPendingAsyncPublishes = 16
        let (client, js) = try await connectJetStream(options)
        let (name, subject) = uniqueStream("ASYNC")
        try await js.createStream(StreamConfig(name: name, subjects: ["\(subject).>"]))
        var handles: [JetStreamPublishHandle] = []
        for index in 0..<500 {
            handles.append(try await js.publishAsync("m\(index)", to: "\(subject).a", options: JetStreamPublishOptions(messageID: "id-\(index % 400)")))
            #expect(js.pendingPublishCount <= 16)
        }
        try await js.waitForPendingPublishes()
        #expect(js.pendingPublishCount == 0)
        var sequences: [UInt64] = []
        var duplicates = 0
        for handle in handles {
            let ack = try #require(try handle.result?.get())
            if ack.isDuplicate { duplicates += 1 } else { sequences.append(ack.sequence) }
        }
        #expect(duplicates == 100)
        #expect(sequences == Array(1...400))
        // An async publish to a subject no stream stores ends with no responders, once.
        let orphan = try await js.publishAsync("x", to: uniqueSubject("js.nostream"))
        let error = await #expect(throws: JetStreamError.self) { try await orphan.value() }
        #expect(error?.code == .noResponders)
        try await js.deleteStream(name)
        await client.close()
    }
}
