/// How `kafka-cat -C` prints each record.
public enum KafkaCatOutput: Sendable, Hashable {
    /// With a `-f` format (or the default built from `-D` and `-K`).
    case format(KafkaCatFormat)
    /// `-J`: one JSON envelope per record, followed by `separator` (the `-D` delimiter).
    case json(separator: [UInt8])

    /// `record` as printed.
    public func render(_ record: KafkaCatRecord, into out: inout [UInt8]) {
        switch self {
        case .format(let format):
            format.render(record, into: &out)
        case .json(let separator):
            out.append(contentsOf: KafkaCatJSON.record(record).utf8)
            out.append(contentsOf: separator)
        }
    }
}
