/// What `kafka-cat` does: exactly one of `-L`, `-P` or `-C`.
public enum KafkaCatMode: String, Sendable, Hashable {
    /// `-L`: print cluster metadata.
    case list = "L"
    /// `-P`: produce stdin to a topic.
    case produce = "P"
    /// `-C`: consume a topic to stdout.
    case consume = "C"
}
