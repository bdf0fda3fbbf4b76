import KafkaCatCore
import ToolSupport
import TributaryKafka
import TributaryKafkaProtocol

/// `-G`: consumes the TOPIC arguments as one member of a consumer group. Records print as with
/// `-C`; each printed record is marked processed, so the group commits it every
/// `auto.commit.interval.ms` and on exit (nothing is committed with `enable.auto.commit=false`,
/// as with kcat). Stops at `-c`, with `-e` once every assigned partition reached its end, or on
/// Ctrl-C/SIGTERM, then commits and leaves the group. A TOPIC argument starting with `^` is a
/// regular expression, as in kcat: the member subscribes to every topic it matches, and follows
/// topics created or deleted later (checked every `regexRefreshInterval`).
struct GroupMember {
    let session: KafkaCatSession
    let client: KafkaClient

    /// How long one poll waits before the end-of-partition check runs again.
    static let pollInterval: Duration = .milliseconds(100)
    /// How often regular-expression subscriptions are matched against the cluster's topics.
    static let regexRefreshInterval: Duration = .seconds(5)

    /// The literal topics plus every topic of the cluster one of the `^` patterns matches.
    private func resolveTopics() async throws(KafkaError) -> [String] {
        let literal = session.command.topics.filter { !$0.hasPrefix("^") }
        let patterns = session.command.topics.filter { $0.hasPrefix("^") }
        guard !patterns.isEmpty else { return literal }
        let regexes = patterns.compactMap { try? Regex($0) }
        var topics = literal
        for name in try await client.listTopics().sorted() where !topics.contains(name) {
            if regexes.contains(where: { (try? $0.firstMatch(in: name)) != nil }) { topics.append(name) }
        }
        return topics
    }

    private struct PartitionKey: Hashable {
        var topic: String
        var partition: Int32
    }

    func run() async throws(KafkaError) {
        let command = session.command
        guard let group = command.group else { return }
        // An unknown topic would otherwise leave the member waiting for partitions forever.
        for topic in command.topics where !topic.hasPrefix("^") { _ = try await client.describeTopic(topic) }
        var topics = try await resolveTopics()
        if topics.isEmpty { session.info("Waiting for topics matching " + command.topics.joined(separator: ", ")) }
        while topics.isEmpty && !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            topics = try await resolveTopics()
        }
        if Task.isCancelled { return }
        if topics != command.topics { session.info("Subscribing to " + topics.joined(separator: ", ")) }
        var leaders: [PartitionKey: Int32] = [:]
        var configuration = KafkaGroupConsumerConfiguration(groupID: group, topics: topics)
        command.properties.apply(to: &configuration)
        configuration.autoOffsetReset = command.groupOffsetReset
        let marksProcessed = configuration.enableAutoCommit
        let reporter = RebalanceReporter(session: session, group: group)
        let member = try client.makeGroupConsumer(configuration) { event in reporter.report(event) }
        reporter.attach(member)
        session.info("Waiting for group rebalance")

        var printed = 0
        var atEnd = Set<PartitionKey>()
        var out: [UInt8] = []
        var failure: KafkaError?
        var watch = BrokerWatch(session: session, client: client)
        var lastRefresh = ContinuousClock.now
        let hasPatterns = command.topics.contains { $0.hasPrefix("^") }
        consuming: while !Task.isCancelled {
            if hasPatterns, ContinuousClock.now - lastRefresh >= Self.regexRefreshInterval {
                lastRefresh = .now
                if let now = try? await resolveTopics(), !now.isEmpty, Set(now) != Set(member.topics) {
                    session.info("Subscription now " + now.joined(separator: ", "))
                    try? member.subscribe(to: now)
                }
            }
            let records: [KafkaConsumerRecord]
            do throws(KafkaError) {
                records = try await member.poll(timeout: Self.pollInterval)
            } catch {
                failure = error
                break consuming
            }
            out.removeAll(keepingCapacity: true)
            if records.isEmpty { await watch.check() } else { watch.contact() }
            var shown = records.count
            for (index, record) in records.enumerated() {
                let key = PartitionKey(topic: record.topic, partition: record.partition)
                if leaders[key] == nil, let metadata = try? await client.describeTopic(record.topic) {
                    for partition in metadata.partitions { leaders[PartitionKey(topic: record.topic, partition: partition.partition)] = partition.leader }
                }
                command.output.render(KafkaCatRecord(record, broker: leaders[key] ?? -1), into: &out)
                atEnd.remove(PartitionKey(topic: record.topic, partition: record.partition))
                printed += 1
                if let count = command.count, printed >= count {
                    shown = index + 1
                    break
                }
            }
            if !out.isEmpty, !StandardStreams.writeOutput(out) { break consuming }
            if marksProcessed {
                for record in records.prefix(shown) { member.markProcessed(record) }
            }
            if let count = command.count, printed >= count { break consuming }

            // Only partitions whose assignment line is out, so the lines come in kcat's order.
            let assigned = member.assignment.flatMap { list in list.partitions.map { PartitionKey(topic: list.topic, partition: $0) } }
                .filter { reporter.isReported(topic: $0.topic, partition: $0.partition) }
            atEnd.formIntersection(assigned)
            for key in assigned where !atEnd.contains(key) && member.isAtEnd(topic: key.topic, partition: key.partition) {
                atEnd.insert(key)
                let offset = member.position(topic: key.topic, partition: key.partition) ?? -1
                let exiting = command.exitAtEnd && atEnd.count == assigned.count
                session.info("Reached end of topic \(key.topic) [\(key.partition)] at offset \(offset)" + (exiting ? ": exiting" : ""))
            }
            if command.exitAtEnd, !assigned.isEmpty, atEnd.count == assigned.count { break consuming }
        }
        // Commits what was marked and leaves the group, so the partitions move on at once.
        await member.close()
        if let failure { throw failure }
        session.info("Exiting after \(printed) records", level: 2)
    }
}
