/// Partition placement that matches the Java client's default partitioner.
///
/// Keyed records: `toPositive(murmur2(keyBytes)) % partitionCount`, where `toPositive` clears
/// the sign bit — the same partition the Java producer (and librdkafka's `murmur2_random`)
/// picks, so services written against different clients co-partition by key.
/// Keyless records use a sticky partition chosen per batch (KIP-480), see `KafkaStickyPartition`.
public enum KafkaPartitioner {
    /// Kafka's murmur2 variant (seed 0x9747b28c), as a signed 32-bit value like Java's `Utils.murmur2`.
    @inlinable
    public static func murmur2(_ data: UnsafeRawBufferPointer) -> Int32 {
        let m: UInt32 = 0x5bd1_e995
        let length = data.count
        var h: UInt32 = 0x9747_b28c ^ UInt32(truncatingIfNeeded: length)
        let blocks = length / 4
        for block in 0..<blocks {
            let i = block * 4
            var k = UInt32(data[i]) | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2]) << 16 | UInt32(data[i + 3]) << 24
            k = k &* m
            k ^= k >> 24
            k = k &* m
            h = h &* m
            h ^= k
        }
        let tail = length & ~3
        switch length % 4 {
        case 3:
            h ^= UInt32(data[tail + 2]) << 16
            h ^= UInt32(data[tail + 1]) << 8
            h ^= UInt32(data[tail])
            h = h &* m
        case 2:
            h ^= UInt32(data[tail + 1]) << 8
            h ^= UInt32(data[tail])
            h = h &* m
        case 1:
            h ^= UInt32(data[tail])
            h = h &* m
        default:
            break
        }
        h ^= h >> 13
        h = h &* m
        h ^= h >> 15
        return Int32(bitPattern: h)
    }

    /// Kafka's murmur2 of `key`.
    public static func murmur2(_ key: [UInt8]) -> Int32 {
        key.withUnsafeBytes { murmur2($0) }
    }

    /// The partition for a keyed record: `(murmur2(key) & 0x7fffffff) % partitionCount`.
    ///
    /// - Precondition: `partitionCount > 0` (callers take it from metadata and check it first).
    public static func partition(forKey key: [UInt8], partitionCount: Int) -> Int {
        partition(forHash: murmur2(key), partitionCount: partitionCount)
    }

    /// The partition for a key whose `murmur2` hash is `hash`.
    ///
    /// - Precondition: `partitionCount > 0`.
    public static func partition(forHash hash: Int32, partitionCount: Int) -> Int {
        precondition(partitionCount > 0, "partitionCount must be positive")
        let positive = Int(UInt32(bitPattern: hash) & 0x7fff_ffff)
        return positive % partitionCount
    }
}

/// The sticky choice for keyless records (KIP-480): one partition until its batch is sent,
/// then a different one at random.
public struct KafkaStickyPartition: Sendable {
    /// The current partition, if one was chosen.
    public private(set) var current: Int?

    public init() {}

    /// The partition for the next keyless record.
    public mutating func partition<R: RandomNumberGenerator>(partitionCount: Int, using random: inout R) -> Int {
        if let current, current < partitionCount { return current }
        let chosen = Int.random(in: 0..<max(partitionCount, 1), using: &random)
        current = chosen
        return chosen
    }

    /// The current batch was sent: move to a different partition for the next records.
    public mutating func batchCompleted<R: RandomNumberGenerator>(partitionCount: Int, using random: inout R) {
        guard partitionCount > 1, let previous = current else {
            current = nil
            return
        }
        var next = Int.random(in: 0..<(partitionCount - 1), using: &random)
        if next >= previous { next += 1 }
        current = next
    }
}
