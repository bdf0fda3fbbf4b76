/// xxHash32, the checksum of the LZ4 frame format (header, block and content checksums).
///
/// Written from the xxHash specification (`doc/xxhash_spec.md` in the xxHash project).
enum XXHash32 {
    private static let prime1: UInt32 = 0x9E37_79B1
    private static let prime2: UInt32 = 0x85EB_CA77
    private static let prime3: UInt32 = 0xC2B2_AE3D
    private static let prime4: UInt32 = 0x27D4_EB2F
    private static let prime5: UInt32 = 0x1656_67B1

    @inline(__always)
    private static func round(_ accumulator: UInt32, _ lane: UInt32) -> UInt32 {
        rotate(accumulator &+ lane &* prime2, 13) &* prime1
    }

    @inline(__always)
    private static func rotate(_ value: UInt32, _ count: UInt32) -> UInt32 {
        (value &<< count) | (value &>> (32 &- count))
    }

    /// The hash of `count` bytes at `data`.
    static func hash(_ data: UnsafeRawPointer?, count: Int, seed: UInt32 = 0) -> UInt32 {
        var index = 0
        var hash: UInt32
        if let data, count >= 16 {
            var v1 = seed &+ prime1 &+ prime2
            var v2 = seed &+ prime2
            var v3 = seed
            var v4 = seed &- prime1
            let stripesEnd = count - 16
            while index <= stripesEnd {
                v1 = round(v1, data.le32(index))
                v2 = round(v2, data.le32(index + 4))
                v3 = round(v3, data.le32(index + 8))
                v4 = round(v4, data.le32(index + 12))
                index += 16
            }
            hash = rotate(v1, 1) &+ rotate(v2, 7) &+ rotate(v3, 12) &+ rotate(v4, 18)
        } else {
            hash = seed &+ prime5
        }
        hash = hash &+ UInt32(truncatingIfNeeded: count)
        if let data {
            while index + 4 <= count {
                hash = rotate(hash &+ data.le32(index) &* prime3, 17) &* prime4
                index += 4
            }
            while index < count {
                hash = rotate(hash &+ UInt32(data.byte(index)) &* prime5, 11) &* prime1
                index += 1
            }
        }
        hash ^= hash >> 15
        hash = hash &* prime2
        hash ^= hash >> 13
        hash = hash &* prime3
        hash ^= hash >> 16
        return hash
    }

    /// The hash of the bytes in `buffer`.
    static func hash(_ buffer: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
        hash(buffer.baseAddress, count: buffer.count, seed: seed)
    }
}
