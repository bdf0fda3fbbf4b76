import Synchronization
import Testing
import TributaryKafka
import TributaryNATS
import TributaryTestSupport

/// The group run loop's failure classes against the broker: cancellation stops without dead
/// letters, transient failures are retried until their deadline, poison follows the policy.
@Suite("Kafka group run loop: cancellation, transient and poison failures", .serialized)
struct KafkaGroupRunLoopConformanceTests {
    typealias Locked = KafkaGroupConformanceTests.Locked
    struct Poison: Error, CustomStringConvertible {
        let value: Int
        var description: String { "poison order \(value)" }
    }

    static func value(_ record: KafkaConsumerRecord) -> Int { Int(String(decoding: record.value ?? [], as: UTF8.self)) ?? -1 }

    static func headers(_ record: KafkaConsumerRecord) -> [String: String] {
        Dictionary(record.headers.map { ($0.key, String(decoding: $0.value ?? [], as: UTF8.self)) }, uniquingKeysWith: { first, _ in first })
    }

    @Test func cancellingTheRunStopsItWithoutDeadLettersAndCommitsOnlyWhatWasProcessed() async throws {
        let client = try await connectKafka()
        defer { client.close() }
        let topic = uniqueTopic("run-cancel")
        try await client.createTopic(KafkaNewTopic(name: topic, partitions: 3))
        try await KafkaGroupConformanceTests.produce(client, topic: topic, range: 0..<300)
        let processed = Locked<[Int32: [Int64]]>([:])
        let notified = Locked(0)
        let member = try client.makeGroupConsumer(KafkaGroupConformanceTests.groupConfiguration(uniqueTopic("run-cancel-g"), topic))
        let deadLetter = KafkaDeadLetterPolicy.suffix(".DLQ").notifying { _ in notified.withLock { $0 += 1 } }
        let runner = Task {
            try await member.run(concurrency: 3, deadLetter: deadLetter) { record in
                // Slow enough that cancellation lands mid-backlog; throws CancellationError then.
                try await Task.sleep(for: .milliseconds(10))
                processed.withLock { $0[record.partition, default: []].append(record.offset) }
            }
        }
        try await waitUntil(timeout: .seconds(60), "first run: processed \(processed.withLock { $0.mapValues(\.count) })") {
            processed.withLock { $0.values.map(\.count).reduce(0, +) } >= 30
        }
        runner.cancel()
        try await runner.value  // returns: cancellation ends the run without an error and without close()

        let done = processed.withLock { $0 }
        let doneCount = done.values.map(\.count).reduce(0, +)
        #expect(doneCount < 300, "the run finished the backlog before it was cancelled; the test needs a slower handler")
        #expect(member.deadLetterCounts.total == 0)
        #expect(notified.withLock { $0 } == 0)
        #expect(try await !client.listTopics().contains(topic + ".DLQ"))
        let committed = try await member.committed(topic: topic, partitions: [0, 1, 2])
        for partition: Int32 in 0..<3 {
            let offsets = done[partition] ?? []
            // In order per partition, each once, from the start.
            #expect(offsets == Array(0..<Int64(offsets.count)), "partition \(partition): \(offsets)")
            let stored = max(0, committed[partition] ?? -1)
            #expect(stored == Int64(offsets.count), "partition \(partition): committed \(stored), processed \(offsets.count)")
        }

        // The next run on the same member continues at the first unprocessed record: the records
        // fetched but not processed before the cancellation are not skipped.
        let second = Task {
            try await member.run(concurrency: 3, deadLetter: deadLetter) { record in
                processed.withLock { $0[record.partition, default: []].append(record.offset) }
            }
        }
        try await waitUntil(timeout: .seconds(60), "second run: processed \(processed.withLock { $0.mapValues(\.count) }), assignment \(member.assignment)") {
            processed.withLock { $0.values.map(\.count).reduce(0, +) } >= 300
        }
        await member.close()
        try await second.value
        let all = processed.withLock { $0 }
        let end = try await member.committed(topic: topic, partitions: [0, 1, 2])
        for partition: Int32 in 0..<3 {
            let offsets = all[partition] ?? []
            #expect(offsets == Array(0..<Int64(offsets.count)), "partition \(partition) processed twice or out of order")
            #expect(end[partition] == Int64(offsets.count))
        }
        #expect(all.values.map(\.count).reduce(0, +) == 300)
        try await client.deleteTopics([topic])
    }

    @Test func transientFailuresAreRetriedPastThePoisonAttemptsAndNotDeadLettered() async throws {
        let client = try await connectKafka()
        defer { client.close() }
        let topic = uniqueTopic("run-transient")
        try await client.createTopic(KafkaNewTopic(name: topic, partitions: 1))
        try await KafkaGroupConformanceTests.produce(client, topic: topic, range: 0..<30)
        let processed = Locked<[Int]>([])
        let contexts = Locked<[KafkaHandlerContext]>([])
        let member = try client.makeGroupConsumer(KafkaGroupConformanceTests.groupConfiguration(uniqueTopic("run-transient-g"), topic))
        let retry = KafkaRetryPolicy(attempts: 2, backoff: .milliseconds(10), maxBackoff: .milliseconds(40), transientTimeout: .seconds(60))
        let runner = Task {
            try await member.run(retry: retry, deadLetter: .suffix(".DLQ")) { record, context in
                let value = Self.value(record)
                if value == 7 {
                    contexts.withLock { $0.append(context) }
                    // A NATS flush timing out during an outage, five times over.
                    if context.attempt <= 5 { throw NATSError(.timeout, "flush timed out") }
                }
                processed.withLock { $0.append(value) }
            }
        }
        try await waitUntil(timeout: .seconds(30)) { processed.withLock { $0.count } >= 30 }
        await member.close()
        try await runner.value
        #expect(processed.withLock { $0 } == Array(0..<30))
        let seen = contexts.withLock { $0 }
        #expect(seen.map(\.attempt) == [1, 2, 3, 4, 5, 6])
        #expect(seen.last?.previousFailureKind == .transient)
        #expect(member.deadLetterCounts.total == 0)
        #expect(try await !client.listTopics().contains(topic + ".DLQ"))
        #expect(try await member.committed(topic: topic, partitions: [0])[0] == 30)
        try await client.deleteTopics([topic])
    }

    @Test func recordsGivenUpOnAreDeadLetteredWithTheirReasonAndReported() async throws {
        let client = try await connectKafka()
        defer { client.close() }
        let topic = uniqueTopic("run-reasons")
        let deadLetters = topic + "-failed"
        try await client.createTopic(KafkaNewTopic(name: topic, partitions: 1))
        try await KafkaGroupConformanceTests.produce(client, topic: topic, range: 0..<20)
        let processed = Locked<[Int]>([])
        let events = Locked<[KafkaDeadLetter]>([])
        let member = try client.makeGroupConsumer(KafkaGroupConformanceTests.groupConfiguration(uniqueTopic("run-reasons-g"), topic))
        let retry = KafkaRetryPolicy(attempts: 2, backoff: .milliseconds(10), maxBackoff: .milliseconds(50), transientTimeout: .milliseconds(300))
        let policy = KafkaDeadLetterPolicy.topic(deadLetters).notifying { event in events.withLock { $0.append(event) } }
        let runner = Task {
            try await member.run(retry: retry, deadLetter: policy) { record in
                let value = Self.value(record)
                if value == 3 { throw NATSError(.disconnected, "the connection was lost") }
                if value == 11 { throw Poison(value: value) }
                processed.withLock { $0.append(value) }
            }
        }
        try await waitUntil(timeout: .seconds(30)) { processed.withLock { $0.count } >= 18 }
        await member.close()
        try await runner.value
        #expect(processed.withLock { $0 } == Array(0..<20).filter { $0 != 3 && $0 != 11 })
        #expect(member.deadLetterCounts.byReason == [.transientTimeout: 1, .poison: 1])
        let reported = events.withLock { $0 }
        #expect(reported.map { Self.value($0.record) } == [3, 11])
        #expect(reported.map(\.reason) == [.transientTimeout, .poison])
        #expect(reported.allSatisfy { $0.destination == deadLetters })
        #expect(reported.last?.attempts == 2)
        #expect((reported.first?.attempts ?? 0) >= 2)

        let dead = try await readAll(client, topic: deadLetters, partitions: 1, count: 2, timeout: .seconds(15))
        #expect(dead.map(Self.value) == [3, 11])
        #expect(dead.map { Self.headers($0)[KafkaDeadLetterPolicy.reasonHeader] } == ["transientTimeout", "poison"])
        #expect(dead.first.map { Self.headers($0)[KafkaDeadLetterPolicy.errorHeader]?.contains("connection was lost") == true } == true)
        try await client.deleteTopics([topic, deadLetters])
    }

    @Test func withoutADeadLetterTopicAGivenUpRecordEndsTheRunUncommitted() async throws {
        let client = try await connectKafka()
        defer { client.close() }
        let topic = uniqueTopic("run-none")
        try await client.createTopic(KafkaNewTopic(name: topic, partitions: 1))
        try await KafkaGroupConformanceTests.produce(client, topic: topic, range: 0..<20)
        let processed = Locked<[Int]>([])
        let member = try client.makeGroupConsumer(KafkaGroupConformanceTests.groupConfiguration(uniqueTopic("run-none-g"), topic))
        var caught: KafkaError?
        do {
            try await member.run(retry: KafkaRetryPolicy(attempts: 2, backoff: .milliseconds(10))) { record in
                let value = Self.value(record)
                if value == 5 { throw Poison(value: value) }
                processed.withLock { $0.append(value) }
            }
        } catch {
            caught = error
        }
        #expect(caught?.offset == 5)
        #expect(caught?.message.contains("poison order 5") == true)
        #expect(caught?.message.contains("deadLetter: .none") == true)
        #expect(processed.withLock { $0 } == [0, 1, 2, 3, 4])
        #expect(try await member.committed(topic: topic, partitions: [0])[0] == 5)
        await member.close()
        try await client.deleteTopics([topic])
    }

    /// `close()` while the run loop is fetching ends `run()` without an error: the fetch the close
    /// fails is not the run's failure. Rounds close at different points of a busy run.
    @Test func closingWhileTheRunFetchesEndsItWithoutAnError() async throws {
        let client = try await connectKafka()
        defer { client.close() }
        let topic = uniqueTopic("run-close")
        try await client.createTopic(KafkaNewTopic(name: topic, partitions: 2))
        try await KafkaGroupConformanceTests.produce(client, topic: topic, range: 0..<400)
        for round in 0..<3 {
            var configuration = KafkaGroupConformanceTests.groupConfiguration(uniqueTopic("run-close-g"), topic)
            configuration.fetch.fetchMaxBytes = 4096  // many small fetches while records are processed
            configuration.fetch.maxPartitionFetchBytes = 2048
            let member = try client.makeGroupConsumer(configuration)
            let seen = Locked(0)
            let runner = Task {
                try await member.run(concurrency: 2, eachRecord: { (_: KafkaConsumerRecord) in
                    seen.withLock { $0 += 1 }
                    try await Task.sleep(for: .milliseconds(1))
                })
            }
            try await waitUntil(timeout: .seconds(60), "round \(round): a first record") { seen.withLock { $0 } > 0 }
            try await Task.sleep(for: .milliseconds(40 * round))
            await member.close()
            try await runner.value
        }
        try await client.deleteTopics([topic])
    }

    @Test func aBatchHandlerResolvesWhatItConfirmedAndTheFirstUnresolvedRecordIsDeadLettered() async throws {
        let client = try await connectKafka()
        defer { client.close() }
        let topic = uniqueTopic("run-batch")
        try await client.createTopic(KafkaNewTopic(name: topic, partitions: 1))
        try await KafkaGroupConformanceTests.produce(client, topic: topic, range: 0..<50)
        let confirmed = Locked<[Int]>([])
        let batchSizes = Locked<[Int]>([])
        let member = try client.makeGroupConsumer(KafkaGroupConformanceTests.groupConfiguration(uniqueTopic("run-batch-g"), topic))
        let runner = Task {
            try await member.run(retry: KafkaRetryPolicy(attempts: 2, backoff: .milliseconds(10)), deadLetter: .suffix(".DLQ")) { batch in
                batchSizes.withLock { $0.append(batch.records.count) }
                for record in batch.records {
                    let value = Self.value(record)
                    if value == 20 { throw Poison(value: value) }
                    confirmed.withLock { $0.append(value) }
                    batch.resolve(record)
                }
            }
        }
        try await waitUntil(timeout: .seconds(30)) { confirmed.withLock { $0.count } >= 49 }
        await member.close()
        try await runner.value
        // Records before the poison one were confirmed once: resolved, so never offered again.
        #expect(confirmed.withLock { $0 } == Array(0..<50).filter { $0 != 20 })
        #expect(batchSizes.withLock { $0 }.contains { $0 > 1 }, "records arrived one per batch: \(batchSizes.withLock { $0 })")
        #expect(member.deadLetterCounts.byReason == [.poison: 1])
        let dead = try await readAll(client, topic: topic + ".DLQ", partitions: 1, count: 1, timeout: .seconds(15))
        #expect(dead.map(Self.value) == [20])
        #expect(try await member.committed(topic: topic, partitions: [0])[0] == 50)
        try await client.deleteTopics([topic, topic + ".DLQ"])
    }
}
