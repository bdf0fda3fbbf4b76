import KafkaCatCore
import ToolSupport
import TributaryKafka

/// `-Q`: prints the offset of each `-t TOPIC:PARTITION:TIMESTAMP`, the first record at or after
/// the timestamp (the end offset when there is none), one `TOPIC [PARTITION] offset N` line each,
/// as kcat does.
struct OffsetQuery {
    let session: KafkaCatSession
    let client: KafkaClient

    func run() async throws(KafkaError) {
        var out = ""
        for query in session.command.queries {
            let offset = try await client.offset(topic: query.topic, partition: query.partition, .timestamp(query.timestamp))
            out += "\(query.topic) [\(query.partition)] offset \(offset)\n"
        }
        StandardStreams.writeOutput(Array(out.utf8))
    }
}
