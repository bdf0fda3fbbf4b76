import Foundation
import Synchronization
import Testing
import TributaryJetStream
import TributaryNATS
import TributaryTestSupport

/// A bucket name no other test uses.
func uniqueBucket(_ prefix: String) -> String {
    "\(prefix)_\(UInt32.random(in: 0...UInt32.max))\(UInt32.random(in: 0...UInt32.max))"
}

/// Runs `body` and returns the key-value error it threw; fails the test when it did not throw one.
func kvError(_ body: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) async -> KeyValueError? {
    do {
        try await body()
        Issue.record("expected a KeyValueError, got success", sourceLocation: sourceLocation)
        return nil
    } catch let error as KeyValueError {
        return error
    } catch {
        Issue.record("expected a KeyValueError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// Reads watch events until `count` entries arrived (markers are skipped but counted in `markers`).
func readEntries(_ iterator: inout KeyValueWatcher.AsyncIterator, count: Int) async throws -> (entries: [KeyValueEntry], markers: Int) {
    var entries: [KeyValueEntry] = []
    var markers = 0
    while entries.count < count, let event = try await iterator.next() {
        switch event {
        case .entry(let entry): entries.append(entry)
        case .initialValuesDone: markers += 1
        }
    }
    return (entries, markers)
}

@Suite("Key-value store against a real nats-server")
struct KeyValueConformanceTests {
    @Test func bucketLifecycleAndStreamShape() async throws {
        let (client, js) = try await connectJetStream()
        let name = uniqueBucket("LIFE")
        var config = KeyValueConfig(bucket: name, description: "settings", history: 5, ttl: .seconds(3600), maxValueSize: 1024, maxBytes: 1 << 20)
        config.storage = .memory
        let kv = try await js.createKeyValue(config)
        #expect(kv.streamName == "KV_\(name)")

        let info = try await js.streamInfo("KV_\(name)")
        #expect(info.config.subjects == ["$KV.\(name).>"])
        #expect(info.config.maxMsgsPerSubject == 5)
        #expect(info.config.allowRollup == true)
        #expect(info.config.denyDelete == true)
        #expect(info.config.discard == .new)
        #expect(info.config.allowDirect == true)
        #expect(info.config.maxAge == .seconds(3600))
        #expect(info.config.maxMsgSize == 1024)
        #expect(info.config.maxBytes == 1 << 20)
        #expect(info.config.storage == .memory)
        #expect(info.config.description == "settings")

        // Same configuration again: fine. Another one: bucketExists.
        _ = try await js.createKeyValue(config)
        var other = config
        other.history = 2
        let exists = await kvError { _ = try await js.createKeyValue(other) }
        #expect(exists?.code == .bucketExists)

        // Update changes the history; status reports it.
        _ = try await js.updateKeyValue(other)
        try await kv.put("a", "1")
        let status = try await kv.status()
        #expect(status.bucket == name)
        #expect(status.history == 2)
        #expect(status.values == 1)
        #expect(status.ttl == .seconds(3600))
        #expect(status.allowsDirect)
        #expect(try await js.keyValueBucketNames().contains(name))
        #expect(try await js.keyValueStatuses().contains { $0.bucket == name })
        _ = try await js.keyValue(name)

        try await js.deleteKeyValue(name)
        #expect(try await !js.keyValueBucketNames().contains(name))
        #expect(await kvError { _ = try await js.keyValue(name) }?.code == .bucketNotFound)
        #expect(await kvError { _ = try await kv.get("a") }?.code == .bucketNotFound)
        #expect(await kvError { try await js.deleteKeyValue(name) }?.code == .bucketNotFound)
        #expect(await kvError { _ = try await js.updateKeyValue(config) }?.code == .bucketNotFound)
        await client.close()
    }

    @Test func bucketConfigurationIsValidated() async throws {
        let (client, js) = try await connectJetStream()
        let badName = await kvError { _ = try await js.createKeyValue(KeyValueConfig(bucket: "has.dot")) }
        #expect(badName?.code == .invalidBucketName)
        #expect(badName?.bucketRule == .invalidCharacter("."))
        #expect(await kvError { _ = try await js.createKeyValue(KeyValueConfig(bucket: "")) }?.bucketRule == .empty)
        let tooLong = await kvError { _ = try await js.createKeyValue(KeyValueConfig(bucket: uniqueBucket("H"), history: 65)) }
        #expect(tooLong?.code == .invalidArgument)
        #expect(tooLong?.message.contains("history") == true)
        await client.close()
    }

    @Test func putGetAndRevisions() async throws {
        let (client, js) = try await connectJetStream()
        let name = uniqueBucket("RW")
        let kv = try await js.createKeyValue(KeyValueConfig(bucket: name, history: 10))
        let first = try await kv.put("user.1", "ann")
        let second = try await kv.put("user.1", "bob")
        let other = try await kv.put("user.2", "cy")
        #expect(second > first)
        let latest = try await kv.get("user.1")
        #expect(latest.string == "bob")
        #expect(latest.revision == second)
        #expect(latest.key == "user.1")
        #expect(latest.bucket == name)
        #expect(latest.operation == .put)
        #expect(abs(latest.created.timeIntervalSinceNow) < 60)
        #expect(try await kv.get("user.1", revision: first).string == "ann")
        #expect(await kvError { _ = try await kv.get("user.1", revision: other) }?.code == .keyNotFound, "a revision of another key")
        #expect(await kvError { _ = try await kv.get("user.1", revision: 999) }?.code == .keyNotFound)
        #expect(await kvError { _ = try await kv.get("nobody") }?.code == .keyNotFound)
        // Binary values round-trip.
        let bytes: [UInt8] = [0, 1, 2, 255, 13, 10]
        try await kv.put("bin", bytes)
        #expect(try await kv.get("bin").value == bytes)
        try await js.deleteKeyValue(name)
        await client.close()
    }

    @Test func compareAndSetConflictsHaveTheirOwnCodes() async throws {
        let (client, js) = try await connectJetStream()
        let name = uniqueBucket("CAS")
        let kv = try await js.createKeyValue(KeyValueConfig(bucket: name, history: 10))
        let created = try await kv.create("lock", "owner-a")
        let exists = await kvError { _ = try await kv.create("lock", "owner-b") }
        #expect(exists?.code == .keyExists)
        #expect(try await kv.get("lock").string == "owner-a")

        let wrong = await kvError { _ = try await kv.update("lock", "owner-b", lastRevision: created + 100) }
        #expect(wrong?.code == .wrongLastRevision)
        #expect(wrong?.underlying?.apiErrorCode == .streamWrongLastSequence)
        let updated = try await kv.update("lock", "owner-b", lastRevision: created)
        #expect(await kvError { _ = try await kv.update("lock", "owner-c", lastRevision: created) }?.code == .wrongLastRevision)
        #expect(await kvError { _ = try await kv.update("fresh", "x", lastRevision: 5) }?.code == .wrongLastRevision)
        #expect(try await kv.update("fresh", "x", lastRevision: 0) > updated, "revision 0 means: no value yet")

        // Delete with a stale revision fails; with the right one it writes a marker.
        #expect(await kvError { _ = try await kv.delete("lock", lastRevision: created) }?.code == .wrongLastRevision)
        let marker = try await kv.delete("lock", lastRevision: updated)
        #expect(await kvError { _ = try await kv.get("lock") }?.code == .keyNotFound)
        #expect(await kvError { _ = try await kv.get("lock", revision: marker) }?.code == .keyNotFound, "a marker is not a value")

        // Create after delete succeeds; after purge too.
        let recreated = try await kv.create("lock", "owner-d")
        #expect(recreated > marker)
        #expect(try await kv.get("lock").string == "owner-d")
        try await kv.purge("lock")
        #expect(await kvError { _ = try await kv.get("lock") }?.code == .keyNotFound)
        try await kv.create("lock", "owner-e")
        #expect(try await kv.get("lock").string == "owner-e")
        #expect(await kvError { _ = try await kv.purge("lock", lastRevision: 1) }?.code == .wrongLastRevision)
        try await js.deleteKeyValue(name)
        await client.close()
    }

    @Test func keyValidationErrorsNameTheRule() async throws {
        let (client, js) = try await connectJetStream()
        let name = uniqueBucket("KEYS")
        let kv = try await js.createKeyValue(KeyValueConfig(bucket: name))
        let cases: [(String, KeyValueKeyRule)] = [
            ("", .empty), (".a", .leadingDot), ("a.", .trailingDot), ("a..b", .emptyToken),
            ("a b", .invalidCharacter(" ")), ("a*", .invalidCharacter("*")), ("a.>", .invalidCharacter(">")), ("ключ", .invalidCharacter("к")),
        ]
        for (key, rule) in cases {
            let error = await kvError { _ = try await kv.put(key, "x") }
            #expect(error?.code == .invalidKey, "key '\(key)'")
            #expect(error?.keyRule == rule, "key '\(key)'")
            #expect(await kvError { _ = try await kv.get(key) }?.keyRule == rule)
            #expect(await kvError { _ = try await kv.delete(key) }?.keyRule == rule)
        }
        #expect(await kvError { _ = try await kv.watch(keys: ["a.>.b"]) }?.keyRule == .misplacedWildcard)
        #expect(await kvError { _ = try await kv.keys(matching: ["a*"]) }?.keyRule == .misplacedWildcard)
        #expect(try await kv.status().values == 0, "nothing was sent")
        try await js.deleteKeyValue(name)
        await client.close()
    }

    @Test func historyLimitsKeysAndPurgeDeletes() async throws {
        let (client, js) = try await connectJetStream()
        let name = uniqueBucket("HIST")
        let kv = try await js.createKeyValue(KeyValueConfig(bucket: name, history: 3))
        for index in 1...5 { try await kv.put("color", "v\(index)") }
        let history = try await kv.history("color")
        #expect(history.map(\.string) == ["v3", "v4", "v5"], "history is bounded at 3")
        #expect(history.map(\.operation) == [.put, .put, .put])
        #expect(await kvError { _ = try await kv.history("never") }?.code == .keyNotFound)

        try await kv.put("app.a.x", "1")
        try await kv.put("app.b.x", "2")
        try await kv.put("app.b.y", "3")
        try await kv.put("gone", "4")
        try await kv.delete("gone")
        #expect(Set(try await kv.keys()) == ["color", "app.a.x", "app.b.x", "app.b.y"], "deleted keys are left out")
        #expect(Set(try await kv.keys(matching: ["app.*.x"])) == ["app.a.x", "app.b.x"])
        #expect(Set(try await kv.keys(matching: ["app.b.>", "color"])) == ["app.b.x", "app.b.y", "color"])
        #expect(try await kv.keys(matching: ["none.>"]).isEmpty)

        // Delete keeps history; purge rolls it up to the marker.
        try await kv.delete("color")
        #expect(try await kv.history("color").map(\.operation) == [.put, .put, .delete])
        try await kv.purge("app.a.x")
        #expect(try await kv.history("app.a.x").map(\.operation) == [.purge])

        // Recent markers stay (their earlier revisions go); a zero threshold removes them all.
        #expect(try await kv.purgeDeletes() == 3)
        #expect(try await kv.history("color").map(\.operation) == [.delete])
        #expect(try await kv.history("gone").map(\.operation) == [.delete])
        #expect(try await kv.purgeDeletes(olderThan: .zero) == 3)
        #expect(await kvError { _ = try await kv.history("color") }?.code == .keyNotFound)
        #expect(await kvError { _ = try await kv.history("app.a.x") }?.code == .keyNotFound)
        #expect(try await kv.get("app.b.x").string == "2")
        try await js.deleteKeyValue(name)
        await client.close()
    }

    @Test func valuesExpireAfterTheTTL() async throws {
        let (client, js) = try await connectJetStream()
        let name = uniqueBucket("TTL")
        // Long enough that a loaded machine still reads the value before it expires.
        let kv = try await js.createKeyValue(KeyValueConfig(bucket: name, ttl: .seconds(3)))
        try await kv.put("session", "token-less")
        #expect(try await kv.get("session").string == "token-less")
        try await eventually("the value expires", timeout: .seconds(20)) {
            do {
                _ = try await kv.get("session")
                return false
            } catch let error as KeyValueError {
                return error.code == .keyNotFound
            }
        }
        try await js.deleteKeyValue(name)
        await client.close()
    }

    @Test func valuesAboveMaxValueSizeAreRefused() async throws {
        let (client, js) = try await connectJetStream()
        let name = uniqueBucket("SIZE")
        let kv = try await js.createKeyValue(KeyValueConfig(bucket: name, maxValueSize: 16))
        try await kv.put("small", "fits")
        let error = await kvError { _ = try await kv.put("big", String(repeating: "x", count: 64)) }
        #expect(error?.code == .jetStream)
        #expect(error?.underlying?.apiErrorCode == .streamMessageExceedsMaximum)
        try await js.deleteKeyValue(name)
        await client.close()
    }

    @Test func emptyBucketWatchSendsTheEndMarkerThenChanges() async throws {
        let (client, js) = try await connectJetStream()
        let name = uniqueBucket("WEMPTY")
        let kv = try await js.createKeyValue(KeyValueConfig(bucket: name))
        let watcher = try await kv.watchAll()
        var iterator = watcher.makeAsyncIterator()
        #expect(try await iterator.next() == .initialValuesDone)
        try await kv.put("a", "1")
        let event = try #require(try await iterator.next())
        #expect(event.entry?.key == "a")
        #expect(event.entry?.string == "1")
        await watcher.close()
        #expect(try await js.consumerNames(stream: "KV_\(name)").isEmpty, "close deletes the consumer")
        try await js.deleteKeyValue(name)
        await client.close()
    }

    @Test func watchOptions() async throws {
        let (client, js) = try await connectJetStream()
        let name = uniqueBucket("WOPT")
        let kv = try await js.createKeyValue(KeyValueConfig(bucket: name, history: 10))
        let r1 = try await kv.put("a.1", "x1")
        try await kv.put("a.1", "x2")
        try await kv.put("a.2", "y1")
        try await kv.put("b.1", "z1")
        try await kv.delete("a.2")

        // Latest values of the matching keys (the delete marker included), then the marker.
        let latest = try await kv.watch(keys: ["a.>"])
        var it = latest.makeAsyncIterator()
        let (initial, _) = try await readEntries(&it, count: 2)
        #expect(initial.map(\.key) == ["a.1", "a.2"])
        #expect(initial.map(\.operation) == [.put, .delete])
        #expect(initial.first?.string == "x2")
        #expect(try await it.next() == .initialValuesDone)
        try await kv.put("b.2", "ignored by the filter")
        try await kv.put("a.3", "new")
        #expect(try await it.next()?.entry?.key == "a.3")
        await latest.close()

        // Several filters, ignore deletes: the deleted key is left out, the marker still comes.
        var options = KeyValueWatchOptions()
        options.ignoreDeletes = true
        let noDeletes = try await kv.watch(keys: ["a.2", "b.1"], options: options)
        var it2 = noDeletes.makeAsyncIterator()
        #expect(try await it2.next()?.entry?.key == "b.1")
        #expect(try await it2.next() == .initialValuesDone)
        await noDeletes.close()

        // History, meta only.
        options = KeyValueWatchOptions()
        options.includeHistory = true
        options.metaOnly = true
        let history = try await kv.watch(keys: ["a.1"], options: options)
        var it3 = history.makeAsyncIterator()
        let (all, _) = try await readEntries(&it3, count: 2)
        #expect(all.map(\.revision).first == r1)
        #expect(all.allSatisfy { $0.value.isEmpty }, "meta only: no values")
        #expect(try await it3.next() == .initialValuesDone)
        await history.close()

        // Updates only: the marker first, then only new changes.
        options = KeyValueWatchOptions()
        options.updatesOnly = true
        let updates = try await kv.watchAll(options: options)
        var it4 = updates.makeAsyncIterator()
        #expect(try await it4.next() == .initialValuesDone)
        try await kv.put("c", "later")
        #expect(try await it4.next()?.entry?.string == "later")
        await updates.close()

        // Resume from a revision: every change from it on.
        options = KeyValueWatchOptions()
        options.resumeFromRevision = r1 + 1
        let resumed = try await kv.watchAll(options: options)
        var it5 = resumed.makeAsyncIterator()
        let (fromR2, _) = try await readEntries(&it5, count: 3)
        #expect(fromR2.map(\.string) == ["x2", "y1", "z1"])
        await resumed.close()

        options = KeyValueWatchOptions()
        options.updatesOnly = true
        options.includeHistory = true
        #expect(await kvError { _ = try await kv.watchAll(options: options) }?.code == .invalidArgument)
        try await js.deleteKeyValue(name)
        await client.close()
    }

    @Test func bucketsWithoutDirectGetAreReadWithMessageGet() async throws {
        // nats-py makes buckets with allow_direct false; reads must go through STREAM.MSG.GET.
        let (client, js) = try await connectJetStream()
        let name = uniqueBucket("NODIRECT")
        try await js.createStream(StreamConfig(name: "KV_\(name)", subjects: ["$KV.\(name).>"], maxMsgsPerSubject: 5, discard: .new,
                                               allowDirect: false, denyDelete: true, allowRollup: true))
        let kv = try await js.keyValue(name)
        #expect(try await kv.status().allowsDirect == false)
        let revision = try await kv.put("k", "v1")
        try await kv.put("k", "v2")
        #expect(try await kv.get("k").string == "v2")
        #expect(try await kv.get("k", revision: revision).string == "v1")
        #expect(try await kv.history("k").count == 2)
        try await kv.delete("k")
        #expect(await kvError { _ = try await kv.get("k") }?.code == .keyNotFound)
        try await js.deleteKeyValue(name)
        await client.close()
    }

    @Test func watcherSurvivesItsConsumerBeingDeleted() async throws {
        let (client, js) = try await connectJetStream()
        let name = uniqueBucket("WDEL")
        let kv = try await js.createKeyValue(KeyValueConfig(bucket: name, history: 10))
        var options = KeyValueWatchOptions()
        options.idleHeartbeat = .milliseconds(300)
        let watcher = try await kv.watchAll(options: options)
        var iterator = watcher.makeAsyncIterator()
        #expect(try await iterator.next() == .initialValuesDone)
        for index in 0..<5 { try await kv.put("k", "v\(index)") }
        var (seen, _) = try await readEntries(&iterator, count: 5)
        let firstName = watcher.currentConsumerName
        try await js.deleteConsumer(stream: "KV_\(name)", name: firstName)
        for index in 5..<10 { try await kv.put("k", "v\(index)") }
        let (more, markers) = try await readEntries(&iterator, count: 5)
        seen += more
        #expect(seen.map(\.string) == (0..<10).map { "v\($0)" }, "every change once, in order")
        #expect(markers == 0, "the end marker is sent once per watch")
        #expect(watcher.resumeCount >= 1)
        #expect(watcher.currentConsumerName != firstName)
        await watcher.close()
        try await js.deleteKeyValue(name)
        await client.close()
    }
}

/// Key-value watchers across a restart of a server that keeps its store on disk.
@Suite("Key-value faults: server restart", .serialized)
struct KeyValueRestartFaultTests {
    @Test func watcherSeesEveryChangeAcrossARestart() async throws {
        let server = try await NATSServerProcess.jetStream()
        defer { server.stop() }
        let client = try await NATSClient.connect(testOptions(server.url))
        let js = try JetStreamContext(client: client, options: restartTolerantJetStreamOptions())
        let kv = try await js.createKeyValue(KeyValueConfig(bucket: "RESTART", history: 5, storage: .file))
        for index in 0..<10 { try await kv.create("k\(index)", "v\(index)") }
        try await client.flush()

        var options = KeyValueWatchOptions()
        options.idleHeartbeat = .milliseconds(300)
        let watcher = try await kv.watchAll(options: options)
        var iterator = watcher.makeAsyncIterator()
        var (seen, markers) = try await readEntries(&iterator, count: 10)
        #expect(try await iterator.next() == .initialValuesDone)
        markers += 1

        // Each change is a create: a retry after an unanswered attempt that was in fact stored
        // is refused with keyExists, so the server holds every key exactly once and the watcher
        // must show each exactly once.
        let total = 60
        let retries = Atomic<Int>(0)
        let written = Atomic<Int>(10)
        let writer = Task {
            for index in 10..<total {
                while true {
                    do {
                        try await kv.create("k\(index)", "v\(index)")
                        break
                    } catch let error as KeyValueError {
                        if error.code == .keyExists { break }
                        retries.add(1, ordering: .relaxed)
                        try await Task.sleep(for: .milliseconds(100))
                    }
                }
                written.add(1, ordering: .relaxed)
                try await Task.sleep(for: .milliseconds(25))
            }
        }
        let (beforeRestart, _) = try await readEntries(&iterator, count: 10)
        seen += beforeRestart
        // Down for a while, so that changes are attempted while no server runs.
        await server.stopped()
        let writtenWhenStopped = written.load(ordering: .relaxed)
        try await Task.sleep(for: .milliseconds(700))
        try await server.start()
        let writtenWhenStarted = written.load(ordering: .relaxed)
        try await writer.value
        #expect(writtenWhenStopped < total && writtenWhenStarted < total, "changes were made after the restart too")
        let (rest, moreMarkers) = try await readEntries(&iterator, count: total - seen.count)
        seen += rest
        markers += moreMarkers

        #expect(seen.map(\.key) == (0..<total).map { "k\($0)" }, "every change once, in order, across the restart")
        #expect(zip(seen, seen.dropFirst()).allSatisfy { $0.revision < $1.revision })
        #expect(markers == 1)
        #expect(watcher.resumeCount >= 1, "the watcher resumed on a new consumer")
        let status = try await kv.status()
        #expect(status.values == UInt64(total))
        let retried = retries.load(ordering: .relaxed)
        print("key-value restart: \(watcher.resumeCount) resumption(s), \(retried) write retries")
        await watcher.close()
        await client.close()
    }
}
