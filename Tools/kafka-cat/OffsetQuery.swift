import KafkaCatCore
import ToolSupport
import TributaryKafka

/// `-Q`: prints the offset of each `-t TOPIC:PARTITION:TIMESTAMP` — the first record with a
/// timestamp at or after it, -1 when there is none — one `TOPIC [PARTITION] offset N` line each,
/// as kcat does.
struct OffsetQuery {
    let session: KafkaCatSession
    let client: KafkaClient

    func run() async throws(KafkaError) {
        var out = ""
        for query in session.command.queries {
            let offset = try await exactOffset(query)
            out += "\(query.topic) [\(query.partition)] offset \(offset)\n"
        }
        StandardStreams.writeOutput(Array(out.utf8))
    }

    /// The broker's answer, made exact: a broker may answer at batch granularity (tansu 0.6
    /// answers with an earlier offset), so the records from there are read up to the first one
    /// at or after the timestamp.
    private func exactOffset(_ query: KafkaCatQuery) async throws(KafkaError) -> Int64 {
        let broad = try await client.offset(topic: query.topic, partition: query.partition, .timestamp(query.timestamp))
        guard broad >= 0 else { return -1 }
        let end = try await client.offset(topic: query.topic, partition: query.partition, .latest)
        guard broad < end else { return broad }
        let consumer = try client.makeConsumer()
        defer { consumer.close() }
        try await consumer.assign(topic: query.topic, partition: query.partition, from: .offset(broad))
        let deadline = ContinuousClock.now.advanced(by: session.command.metadataTimeout ?? .seconds(30))
        while ContinuousClock.now < deadline {
            for record in try await consumer.poll(maxRecords: 500, timeout: .milliseconds(200)) {
                if record.offset >= end { return -1 }
                if record.timestamp >= query.timestamp { return record.offset }
            }
            if (consumer.position(topic: query.topic, partition: query.partition) ?? 0) >= end { return -1 }
        }
        throw KafkaError(.timedOut, "reading \(query.topic) [\(query.partition)] from offset \(broad) to find timestamp \(query.timestamp) took longer than -m allows",
                         topic: query.topic, partition: query.partition)
    }
}
