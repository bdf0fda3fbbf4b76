import ToolSupport

/// Where `kafka-cat -C` starts reading each partition (`-o`), as kcat spells it.
public enum KafkaCatStartOffset: Sendable, Hashable {
    /// `beginning` (also `stored`, since kafka-cat keeps no stored offsets): the log start.
    case beginning
    /// `end`: only records produced from now on.
    case end
    /// `N`: this absolute offset.
    case offset(Int64)
    /// `-N`: N records before the log end (not before the log start).
    case fromEnd(Int64)
    /// `s@MS`: the first record with a timestamp at or after MS milliseconds since the epoch.
    case timestamp(Int64)

    /// Default: `beginning`, like kcat.
    public static let defaultValue = KafkaCatStartOffset.beginning

    /// Parses a `-o` value.
    ///
    /// - Throws: `UsageError` for anything but `beginning`, `end`, `stored`, an integer or `s@MS`.
    public static func parse(_ text: String) throws(UsageError) -> KafkaCatStartOffset {
        switch text {
        case "beginning", "stored": return .beginning
        case "end": return .end
        default: break
        }
        if text.hasPrefix("s@") {
            guard let milliseconds = Int64(text.dropFirst(2)), milliseconds >= 0 else {
                throw UsageError("invalid -o '\(text)': s@ needs a timestamp in milliseconds since the epoch, as in s@1700000000000")
            }
            return .timestamp(milliseconds)
        }
        if text.hasPrefix("e@") {
            throw UsageError("invalid -o '\(text)': stopping at a timestamp (e@) is not supported; use -c or -e to stop")
        }
        guard let value = Int64(text) else {
            throw UsageError("invalid -o '\(text)': expected beginning, end, stored, an offset N, -N (N before the end) or s@MS")
        }
        return value < 0 ? .fromEnd(-value) : .offset(value)
    }

    /// The offset to start at, given the partition's log start and log end.
    public func resolve(logStart: Int64, logEnd: Int64) -> Int64 {
        switch self {
        case .beginning: logStart
        case .end: logEnd
        case .offset(let value): value
        case .fromEnd(let count): max(logStart, logEnd - count)
        case .timestamp: logStart
        }
    }
}
