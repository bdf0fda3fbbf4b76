/// Pending async publishes by token, oldest first.
///
/// Tokens are handed out in order and acknowledgements mostly arrive in order, so entries live in
/// a ring indexed by token: no hashing, no allocation per publish, and the oldest entry (the
/// earliest deadline) is at the head. The ring spans at most `capacity` tokens; an entry still
/// pending when newer publishes would wrap onto its slot moves to a small overflow table, so a
/// lost acknowledgement never blocks later publishes.
struct PendingPublishRing<Entry> {
    private var slots: [Entry?]
    private let mask: UInt64
    /// Tokens `head..<next` belong to the ring; tokens below `head` still pending are in `overflow`.
    private(set) var head: UInt64 = 1
    private(set) var next: UInt64 = 1
    private var overflow: [UInt64: Entry] = [:]
    /// Entries pending, in the ring and in the overflow table.
    private(set) var count = 0

    /// A ring of at least `minimumCapacity` slots (rounded up to a power of two, at least 16).
    init(minimumCapacity: Int) {
        var capacity = 16
        while capacity < minimumCapacity { capacity <<= 1 }
        slots = Array(repeating: nil, count: capacity)
        mask = UInt64(capacity - 1)
    }

    var capacity: Int { slots.count }
    var isEmpty: Bool { count == 0 }
    /// Entries that left the ring because they stayed pending too long (for tests).
    var overflowCount: Int { overflow.count }

    /// Stores `entry` under the next token and returns that token (tokens start at 1).
    mutating func insert(_ entry: Entry) -> UInt64 {
        if next - head == mask + 1 {
            // The oldest entry would be overwritten: keep it aside.
            let index = Int(head & mask)
            overflow[head] = slots[index]
            slots[index] = nil
            head += 1
            advanceHead()
        }
        let token = next
        next += 1
        slots[Int(token & mask)] = entry
        count += 1
        return token
    }

    /// Removes and returns the entry of `token`, or nil when it is not pending.
    mutating func remove(_ token: UInt64) -> Entry? {
        if token >= head && token < next {
            let index = Int(token & mask)
            guard let entry = slots[index] else { return nil }
            slots[index] = nil
            count -= 1
            if token == head { advanceHead() }
            return entry
        }
        guard token < head, let entry = overflow.removeValue(forKey: token) else { return nil }
        count -= 1
        return entry
    }

    /// The oldest pending entry.
    var oldest: Entry? {
        if let key = overflow.keys.min() { return overflow[key] }
        return head < next ? slots[Int(head & mask)] : nil
    }

    /// Removes the oldest entries, in token order, while `isDue` holds for them.
    mutating func removeOldest(while isDue: (Entry) -> Bool) -> [(token: UInt64, entry: Entry)] {
        var removed: [(token: UInt64, entry: Entry)] = []
        if !overflow.isEmpty {
            for token in overflow.keys.sorted() {
                guard let entry = overflow[token], isDue(entry) else {
                    count -= removed.count
                    return removed
                }
                overflow[token] = nil
                removed.append((token, entry))
            }
        }
        while head < next, let entry = slots[Int(head & mask)], isDue(entry) {
            slots[Int(head & mask)] = nil
            removed.append((head, entry))
            head += 1
            advanceHead()
        }
        count -= removed.count
        return removed
    }

    private mutating func advanceHead() {
        while head < next && slots[Int(head & mask)] == nil { head += 1 }
    }
}
