import KafkaCatCore
import ToolSupport
import TributaryKafka

/// `-C`: reads the chosen partitions from `-o`, prints each record (`-f`, `-K`, `-J`), reports
/// kcat's `Reached end of topic` lines, and stops at `-c`, at the end with `-e`, or on Ctrl-C.
struct TopicConsumer {
    let session: KafkaCatSession
    let client: KafkaClient

    /// How long one poll waits before the end-of-partition check runs again.
    static let pollInterval: Duration = .milliseconds(100)

    func run() async throws(KafkaError) {
        let command = session.command
        guard let topicName = command.topic else { return }
        let topic = try await client.describeTopic(topicName)
        let partitions = session.partitions(of: topic)
        let leaders = Dictionary(topic.partitions.map { ($0.partition, $0.leader) }, uniquingKeysWith: { first, _ in first })
        var watch = BrokerWatch(session: session, client: client)
        var configuration = KafkaConsumerConfiguration()
        command.properties.apply(to: &configuration)
        let consumer = try client.makeConsumer(configuration)
        defer { consumer.close() }
        for partition in partitions {
            try await consumer.assign(topic: topicName, partition: partition, from: try await startSpec(topic: topicName, partition: partition))
        }

        var printed = 0
        var reportedAtEnd = Set<Int32>()
        var stopped = Set<Int32>()
        var out: [UInt8] = []
        consuming: while !Task.isCancelled {
            let records = try await consumer.poll(timeout: Self.pollInterval)
            out.removeAll(keepingCapacity: true)
            var limitReached = false
            if !records.isEmpty { watch.contact() }
            var stopsNow: [(partition: Int32, offset: Int64)] = []
            for record in records where !stopped.contains(record.partition) {
                if let stop = command.stopTimestamp, record.timestamp >= stop {
                    // kcat's e@: the partition stops before the first record at the timestamp.
                    stopped.insert(record.partition)
                    consumer.unassign(topic: topicName, partition: record.partition)
                    stopsNow.append((record.partition, record.offset))
                    continue
                }
                command.output.render(KafkaCatRecord(record, broker: leaders[record.partition] ?? -1), into: &out)
                reportedAtEnd.remove(record.partition)
                printed += 1
                if let count = command.count, printed >= count {
                    limitReached = true
                    break
                }
            }
            if !out.isEmpty, !StandardStreams.writeOutput(out) { break consuming }
            if limitReached { break consuming }
            for stop in stopsNow {
                let exiting = stopped.count == partitions.count
                session.info("Reached stop timestamp for topic \(topicName) [\(stop.partition)] at offset \(stop.offset)" + (exiting ? ": exiting" : ""))
            }
            if stopped.count == partitions.count { break consuming }
            for partition in partitions where !reportedAtEnd.contains(partition) && !stopped.contains(partition) {
                guard consumer.isAtEnd(topic: topicName, partition: partition) else { continue }
                reportedAtEnd.insert(partition)
                let offset = consumer.position(topic: topicName, partition: partition) ?? -1
                var exiting = false
                if command.exitAtEnd {
                    stopped.insert(partition)
                    consumer.unassign(topic: topicName, partition: partition)
                    exiting = stopped.count == partitions.count
                }
                session.info("Reached end of topic \(topicName) [\(partition)] at offset \(offset)" + (exiting ? ": exiting" : ""))
            }
            if command.exitAtEnd, stopped.count == partitions.count { break consuming }
            if records.isEmpty { await watch.check() }
        }
        session.info("Exiting after \(printed) records", level: 2)
    }

    /// The `-o` start of one partition; `-N` is resolved against the log start and end here.
    private func startSpec(topic: String, partition: Int32) async throws(KafkaError) -> KafkaOffsetSpec {
        switch session.command.start {
        case .beginning: return .earliest
        case .end: return .latest
        case .offset(let value): return .offset(value)
        case .timestamp(let milliseconds): return .timestamp(milliseconds)
        case .fromEnd:
            let logStart = try await client.offset(topic: topic, partition: partition, .earliest)
            let logEnd = try await client.offset(topic: topic, partition: partition, .latest)
            return .offset(session.command.start.resolve(logStart: logStart, logEnd: logEnd))
        }
    }
}
