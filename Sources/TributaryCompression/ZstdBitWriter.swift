/// Writes a zstd bitstream forward, least significant bit first (RFC 8878 §4.1 and
/// "Huffman-coded Streams"); the decoder reads it backward from the closing 1 bit.
///
/// Bits gather in a 64-bit container; `flush` stores the container's whole bytes. Stores stay
/// inside `capacity`: a flush that would pass it marks the writer `overflowed` and writes
/// nothing more, so a caller can give a tight capacity and fall back when the stream does not fit.
struct ZstdBitWriter {
    private let base: UnsafeMutableRawPointer
    private let capacity: Int
    private(set) var position = 0
    private var container: UInt64 = 0
    private var count = 0
    /// Bits added since the last flush that are not stored yet as a whole byte.
    var pendingBits: Int { count }
    /// A flush did not fit in the capacity; the stream is unusable.
    private(set) var overflowed = false

    /// Starts a stream at `base`, which may hold `capacity` bytes.
    init(_ base: UnsafeMutableRawPointer, capacity: Int) {
        self.base = base
        self.capacity = capacity
    }

    /// Appends the low `bits` bits of `value`. Between two flushes at most 56 bits may be added.
    @inline(__always)
    mutating func add(_ value: UInt64, _ bits: Int) {
        container |= (value & ((1 &<< UInt64(truncatingIfNeeded: bits)) &- 1)) &<< UInt64(truncatingIfNeeded: count)
        count &+= bits
    }

    /// Stores the whole bytes gathered so far.
    @inline(__always)
    mutating func flush() {
        guard position + 8 <= capacity else {
            overflowed = true
            container = 0
            count = 0
            return
        }
        base.setLE64(container, at: position)
        let bytes = count >> 3
        position += bytes
        count &= 7
        container = container &>> UInt64(truncatingIfNeeded: bytes << 3)
    }

    /// Adds the closing 1 bit and returns the stream's size in bytes, or nil when it overflowed.
    mutating func close() -> Int? {
        add(1, 1)
        flush()
        if overflowed { return nil }
        return position + (count > 0 ? 1 : 0)
    }
}
