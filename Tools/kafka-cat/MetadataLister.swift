import KafkaCatCore
import ToolSupport
import TributaryKafka

/// `-L`: prints the brokers, topics and partitions in kcat's layout (or `-J`).
struct MetadataLister {
    let session: KafkaCatSession
    let client: KafkaClient

    func run() async throws(KafkaError) {
        let topic = session.command.topic
        let metadata = try await client.metadata(topics: topic.map { [$0] })
        let text = session.command.json
            ? KafkaCatMetadataListing.json(metadata, topic: topic)
            : KafkaCatMetadataListing.text(metadata, topic: topic)
        StandardStreams.writeOutput(Array(text.utf8))
    }
}
