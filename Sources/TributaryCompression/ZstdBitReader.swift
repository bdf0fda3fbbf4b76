/// Reads a zstd backward bitstream (RFC 8878 §4.1 and "Huffman-coded Streams").
///
/// The writer appends bits forward and closes with a 1 bit; the reader starts after that
/// marker in the last byte and moves towards the first byte. `consumed` counts bits used from
/// the top of a 64-bit container loaded at `position`; reading past the stream's start yields
/// garbage, which `overflowed` reports, and table lookups stay in bounds because every value is
/// masked to the bits asked for.
struct BackwardBitReader {
    private let base: UnsafeRawPointer
    private var position: Int
    private var container: UInt64
    /// Bits used from the top of the container; above 64 means the stream was over-read.
    private(set) var consumed: Int

    /// Starts reading the `count` bytes at `base`; nil if the stream is empty or its last byte
    /// is zero (no end marker).
    init?(_ base: UnsafeRawPointer, count: Int) {
        guard count > 0 else { return nil }
        let last = base.byte(count - 1)
        guard last != 0 else { return nil }
        self.base = base
        if count >= 8 {
            position = count - 8
            container = base.le64(position)
            consumed = last.leadingZeroBitCount + 1
        } else {
            position = 0
            var value: UInt64 = 0
            for index in 0..<count { value |= UInt64(base.byte(index)) << (8 * index) }
            container = value
            consumed = last.leadingZeroBitCount + 1 + (8 - count) * 8
        }
    }

    /// The next `bits` bits (0...56 after a `reload`) without consuming them.
    @inline(__always)
    func peek(_ bits: Int) -> UInt64 {
        ((container &<< UInt64(truncatingIfNeeded: consumed & 63)) &>> 1) &>> UInt64(truncatingIfNeeded: (63 - bits) & 63)
    }

    @inline(__always)
    mutating func read(_ bits: Int) -> UInt64 {
        let value = peek(bits)
        consumed &+= bits
        return value
    }

    @inline(__always)
    mutating func skip(_ bits: Int) {
        consumed &+= bits
    }

    /// Refills the container so at least 57 bits are readable, or as many as the stream has left.
    @inline(__always)
    mutating func reload() {
        guard consumed <= 64, position > 0 else { return }
        let step = min(consumed >> 3, position)
        position -= step
        consumed -= step << 3
        container = base.le64(position)
    }

    /// More bits were read than the stream holds.
    var overflowed: Bool { consumed > 64 }

    /// Every bit of the stream has been read, exactly.
    var finished: Bool { position == 0 && consumed == 64 }
}
