import TributaryKafkaProtocol

/// librdkafka's partitioners (`-X partitioner=…`), so that kcat users reproduce their
/// partitions. kcat leaves the choice to librdkafka, whose default is `consistent_random`;
/// kafka-cat's default is `murmur2_random`, the Java client's placement (and the library's).
public enum KafkaCatPartitioner: String, Sendable, Hashable, CaseIterable {
    /// A random partition for every record.
    case random
    /// CRC-32 of the key modulo the partition count; a null or empty key hashes as empty (partition 0).
    case consistent
    /// `consistent` for non-empty keys, `random` for null or empty ones (librdkafka's default).
    case consistentRandom = "consistent_random"
    /// Murmur2 of the key (Java's placement); a null key hashes as empty.
    case murmur2
    /// `murmur2` for non-null keys, random for null ones (kafka-cat's default).
    case murmur2Random = "murmur2_random"
    /// FNV-1a of the key modulo the partition count; a null key hashes as empty.
    case fnv1a
    /// `fnv1a` for non-null keys, random for null ones.
    case fnv1aRandom = "fnv1a_random"

    /// The partition for `key`, or nil to leave the choice to the producer (`murmur2_random`,
    /// whose keyless records stick to one partition per batch, KIP-480).
    public func partition(forKey key: [UInt8]?, partitionCount: Int, using random: inout some RandomNumberGenerator) -> Int32? {
        guard partitionCount > 0 else { return nil }
        let count = UInt32(partitionCount)
        func anyPartition() -> Int32 { Int32(UInt32.random(in: 0..<count, using: &random)) }
        switch self {
        case .murmur2Random:
            return nil
        case .random:
            return anyPartition()
        case .consistent:
            return Int32(KafkaCatHash.crc32(key ?? []) % count)
        case .consistentRandom:
            guard let key, !key.isEmpty else { return anyPartition() }
            return Int32(KafkaCatHash.crc32(key) % count)
        case .murmur2:
            return Int32(KafkaPartitioner.partition(forKey: key ?? [], partitionCount: partitionCount))
        case .fnv1a:
            return Int32(KafkaCatHash.fnv1aPartitionHash(key ?? []) % count)
        case .fnv1aRandom:
            guard let key else { return anyPartition() }
            return Int32(KafkaCatHash.fnv1aPartitionHash(key) % count)
        }
    }
}

/// The hashes librdkafka's partitioners use.
public enum KafkaCatHash {
    private static let crcTable: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    /// CRC-32 (IEEE 802.3, as zlib computes it).
    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    /// librdkafka's FNV-1a partitioner hash: the 32-bit FNV-1a as a signed value, made positive
    /// (as Sarama's hash partitioner does; the most negative value stays as it is).
    public static func fnv1aPartitionHash(_ bytes: [UInt8]) -> UInt32 {
        let signed = Int32(bitPattern: fnv1a(bytes))
        return UInt32(bitPattern: signed < 0 ? 0 &- signed : signed)
    }

    /// 32-bit FNV-1a.
    public static func fnv1a(_ bytes: [UInt8]) -> UInt32 {
        var hash: UInt32 = 0x811C_9DC5
        for byte in bytes { hash = (hash ^ UInt32(byte)) &* 0x0100_0193 }
        return hash
    }
}
