/// What `kafka-cat` does: exactly one of `-L`, `-P`, `-C`, `-G` or `-Q`.
public enum KafkaCatMode: String, Sendable, Hashable {
    /// `-L`: print cluster metadata.
    case list = "L"
    /// `-P`: produce stdin to a topic.
    case produce = "P"
    /// `-C`: consume a topic to stdout.
    case consume = "C"
    /// `-G`: consume topics as a member of a consumer group to stdout.
    case group = "G"
    /// `-Q`: print the offsets of partitions at timestamps.
    case query = "Q"
}
