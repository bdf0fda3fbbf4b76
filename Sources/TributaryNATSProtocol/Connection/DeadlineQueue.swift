import TributaryWire

/// A min-heap of deadlines with keys, for waiters that time out. Entries whose key is gone
/// are skipped by the owner (lazy deletion), so removal is free.
struct DeadlineQueue<Key: Hashable & Sendable>: Sendable {
    private var heap: [(deadline: MonotonicInstant, key: Key)] = []

    var isEmpty: Bool { heap.isEmpty }
    var earliest: MonotonicInstant? { heap.first?.deadline }

    mutating func insert(_ deadline: MonotonicInstant, _ key: Key) {
        heap.append((deadline, key))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].deadline < heap[parent].deadline else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns every key whose deadline is at or before `now`.
    mutating func popExpired(now: MonotonicInstant) -> [Key] {
        var keys: [Key] = []
        while let first = heap.first, first.deadline <= now {
            keys.append(first.key)
            let last = heap.removeLast()
            guard !heap.isEmpty else { break }
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var smallest = parent
                if left < heap.count, heap[left].deadline < heap[smallest].deadline { smallest = left }
                if right < heap.count, heap[right].deadline < heap[smallest].deadline { smallest = right }
                if smallest == parent { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return keys
    }

    mutating func removeAll() { heap.removeAll() }
}

/// The connection machine's seeded generator (jitter, shuffles, lame-duck delays).
public typealias NATSRandom = SeededGenerator
