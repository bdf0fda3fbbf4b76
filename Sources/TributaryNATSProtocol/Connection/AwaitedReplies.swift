/// Publishes that asked for a reply on the client's inbox, oldest first, each with the stream
/// offset just past it. A reply proves the server processed that publish and, since a connection
/// is processed in order, everything written before it.
///
/// Replies mostly arrive in the order their publishes went out (requests answered in turn,
/// JetStream acknowledgements of a stream), so a reply is looked for among the oldest entries
/// only, and a match drops the entries before it: they are confirmed too. Entries a PONG already
/// confirmed are dropped from the front as publishing goes on, so an unanswered request does not
/// stay in front for long.
struct AwaitedReplies {
    /// How far from the front a reply is looked for.
    static let searchDepth = 64

    private var entries: [(reply: String, fingerprint: UInt64, end: Int)] = []
    private var head = 0

    var count: Int { entries.count - head }
    var isEmpty: Bool { head == entries.count }

    mutating func append(_ reply: String, end: Int) {
        entries.append((reply, Self.fingerprint(reply), end))
    }

    /// The length and the last seven bytes, where reply subjects under one inbox differ, so most
    /// entries are passed over without comparing whole strings.
    @inline(__always)
    static func fingerprint(_ subject: String) -> UInt64 {
        let utf8 = subject.utf8
        if let value = utf8.withContiguousStorageIfAvailable({ bytes -> UInt64 in
            var value: UInt64 = 0
            for byte in bytes.suffix(7) { value = value << 8 | UInt64(byte) }
            return value | UInt64(truncatingIfNeeded: bytes.count) << 56
        }) {
            return value
        }
        var value: UInt64 = 0
        for byte in utf8.suffix(7) { value = value << 8 | UInt64(byte) }
        return value | UInt64(truncatingIfNeeded: utf8.count) << 56
    }

    /// Drops entries from the front whose publishes are confirmed by `offset`.
    @inline(__always)
    mutating func dropConfirmed(upTo offset: Int) {
        while head < entries.count, entries[head].end <= offset { head += 1 }
        compact()
    }

    /// The end offset of the oldest awaited publish whose reply subject is `subject`, after
    /// dropping it and every entry before it; nil when no entry near the front matches.
    mutating func match(_ subject: String) -> Int? {
        let limit = Swift.min(entries.count, head + Self.searchDepth)
        let fingerprint = Self.fingerprint(subject)
        var index = head
        while index < limit {
            if entries[index].fingerprint == fingerprint, entries[index].reply == subject {
                let end = entries[index].end
                head = index + 1
                compact()
                return end
            }
            index += 1
        }
        return nil
    }

    mutating func removeAll() {
        entries.removeAll(keepingCapacity: true)
        head = 0
    }

    private mutating func compact() {
        if head == entries.count {
            entries.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024, head * 2 >= entries.count {
            entries.removeFirst(head)
            head = 0
        }
    }
}
