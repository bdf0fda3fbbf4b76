/// xxHash64, whose low 32 bits are the zstd frame content checksum (RFC 8878 §3.1.1).
///
/// Written from the xxHash specification (`doc/xxhash_spec.md` in the xxHash project).
enum XXHash64 {
    private static let prime1: UInt64 = 0x9E37_79B1_85EB_CA87
    private static let prime2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    private static let prime3: UInt64 = 0x1656_67B1_9E37_79F9
    private static let prime4: UInt64 = 0x85EB_CA77_C2B2_AE63
    private static let prime5: UInt64 = 0x27D4_EB2F_1656_67C5

    @inline(__always)
    private static func rotate(_ value: UInt64, _ count: UInt64) -> UInt64 {
        (value &<< count) | (value &>> (64 &- count))
    }

    @inline(__always)
    private static func round(_ accumulator: UInt64, _ lane: UInt64) -> UInt64 {
        rotate(accumulator &+ lane &* prime2, 31) &* prime1
    }

    @inline(__always)
    private static func merge(_ hash: UInt64, _ accumulator: UInt64) -> UInt64 {
        (hash ^ round(0, accumulator)) &* prime1 &+ prime4
    }

    /// The hash of `count` bytes at `data`.
    static func hash(_ data: UnsafeRawPointer?, count: Int, seed: UInt64 = 0) -> UInt64 {
        var index = 0
        var hash: UInt64
        if let data, count >= 32 {
            var v1 = seed &+ prime1 &+ prime2
            var v2 = seed &+ prime2
            var v3 = seed
            var v4 = seed &- prime1
            let stripesEnd = count - 32
            while index <= stripesEnd {
                v1 = round(v1, data.le64(index))
                v2 = round(v2, data.le64(index + 8))
                v3 = round(v3, data.le64(index + 16))
                v4 = round(v4, data.le64(index + 24))
                index += 32
            }
            hash = rotate(v1, 1) &+ rotate(v2, 7) &+ rotate(v3, 12) &+ rotate(v4, 18)
            hash = merge(hash, v1)
            hash = merge(hash, v2)
            hash = merge(hash, v3)
            hash = merge(hash, v4)
        } else {
            hash = seed &+ prime5
        }
        hash = hash &+ UInt64(truncatingIfNeeded: count)
        if let data {
            while index + 8 <= count {
                hash ^= round(0, data.le64(index))
                hash = rotate(hash, 27) &* prime1 &+ prime4
                index += 8
            }
            if index + 4 <= count {
                hash ^= UInt64(data.le32(index)) &* prime1
                hash = rotate(hash, 23) &* prime2 &+ prime3
                index += 4
            }
            while index < count {
                hash ^= UInt64(data.byte(index)) &* prime5
                hash = rotate(hash, 11) &* prime1
                index += 1
            }
        }
        hash ^= hash >> 33
        hash = hash &* prime2
        hash ^= hash >> 29
        hash = hash &* prime3
        hash ^= hash >> 32
        return hash
    }

    /// The hash of the bytes in `buffer`.
    static func hash(_ buffer: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        hash(buffer.baseAddress, count: buffer.count, seed: seed)
    }
}
