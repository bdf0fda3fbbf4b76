import TributaryKafka
import TributaryKafkaProtocol

/// What `kafka-cat -L` prints, in kcat's layouts (text and `-J`). Pure.
public enum KafkaCatMetadataListing {
    /// kcat's text layout:
    /// ```
    /// Metadata for all topics (from broker 1: 127.0.0.1:9092/1):
    ///  1 brokers:
    ///   broker 1 at 127.0.0.1:9092 (controller)
    ///  1 topics:
    ///   topic "x" with 2 partitions:
    ///     partition 0, leader 1, replicas: 1, isrs: 1
    /// ```
    /// A topic error follows the partition count (`with 0 partitions: Broker: Unknown topic or
    /// partition`); a partition error ends its line.
    public static func text(_ metadata: KafkaClusterMetadata, topic: String?) -> String {
        let origin = metadata.origin
        var lines = ["Metadata for \(topic ?? "all topics") (from broker \(origin.nodeID): \(originName(origin))):"]
        lines.append(" \(metadata.brokers.count) brokers:")
        for broker in metadata.brokers {
            lines.append("  broker \(broker.nodeID) at \(broker.host):\(broker.port)" + (broker.nodeID == metadata.controllerID ? " (controller)" : ""))
        }
        lines.append(" \(metadata.topics.count) topics:")
        for entry in metadata.topics {
            var line = "  topic \"\(entry.name)\" with \(entry.partitions.count) partitions:"
            if let error = entry.error {
                line += " " + errorText(error)
                if error == .leaderNotAvailable { line += " (try again)" }
            }
            lines.append(line)
            for partition in entry.partitions {
                var line = "    partition \(partition.partition), leader \(partition.leader), replicas: "
                line += partition.replicas.map(String.init).joined(separator: ",")
                line += ", isrs: " + partition.isr.map(String.init).joined(separator: ",")
                if let error = partition.error { line += ", " + errorText(error) }
                lines.append(line)
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// kcat's `-J` metadata object (compact, one line), followed by a newline.
    public static func json(_ metadata: KafkaClusterMetadata, topic: String?) -> String {
        let origin = metadata.origin
        var out = "{\"originating_broker\":{\"id\":\(origin.nodeID),\"name\":" + KafkaCatJSON.string(originName(origin)) + "}"
        out += ",\"query\":{\"topic\":" + KafkaCatJSON.string(topic ?? "*") + "}"
        out += ",\"controllerid\":\(metadata.controllerID)"
        out += ",\"brokers\":[" + metadata.brokers.map { broker in
            "{\"id\":\(broker.nodeID),\"name\":" + KafkaCatJSON.string("\(broker.host):\(broker.port)") + "}"
        }.joined(separator: ",") + "]"
        out += ",\"topics\":[" + metadata.topics.map { entry in
            var topic = "{\"topic\":" + KafkaCatJSON.string(entry.name)
            if let error = entry.error { topic += ",\"error\":" + KafkaCatJSON.string(errorText(error)) }
            topic += ",\"partitions\":[" + entry.partitions.map { partition in
                var item = "{\"partition\":\(partition.partition)"
                if let error = partition.error { item += ",\"error\":" + KafkaCatJSON.string(errorText(error)) }
                item += ",\"leader\":\(partition.leader)"
                item += ",\"replicas\":[" + partition.replicas.map { "{\"id\":\($0)}" }.joined(separator: ",") + "]"
                item += ",\"isrs\":[" + partition.isr.map { "{\"id\":\($0)}" }.joined(separator: ",") + "]"
                return item + "}"
            }.joined(separator: ",") + "]"
            return topic + "}"
        }.joined(separator: ",") + "]"
        return out + "}\n"
    }

    /// `host:port/id` for a broker known by id; `host:port/bootstrap` for the bootstrap
    /// connection whose id is not known yet (node id -1), as librdkafka names them.
    public static func originName(_ broker: KafkaBroker) -> String {
        "\(broker.host):\(broker.port)/" + (broker.nodeID < 0 ? "bootstrap" : String(broker.nodeID))
    }

    /// `Broker: Unknown topic or partition` for `UNKNOWN_TOPIC_OR_PARTITION`: the Kafka name in
    /// words, prefixed like librdkafka's broker error strings.
    public static func errorText(_ code: KafkaErrorCode) -> String {
        let words = code.name.lowercased().split(separator: "_").joined(separator: " ")
        return "Broker: " + words.prefix(1).uppercased() + words.dropFirst()
    }
}
