import CTributaryAccel

/// CRC-32C (Castagnoli), the checksum of Kafka record batches (magic 2).
///
/// Reflected polynomial `0x82F63B78`, initial value and final XOR `0xFFFFFFFF`. On x86-64 CPUs
/// with SSE4.2 the `crc32` instruction does the work (eight bytes per instruction, chosen at run
/// time, ``usesHardware``); elsewhere the byte loop uses slicing-by-16 (sixteen 256-entry
/// tables, built once on first use), which processes sixteen bytes per step. Both give the same
/// checksums.
///
/// Use ``checksum(_:)`` for a whole buffer, or create a value and ``update(_:)`` it
/// piece by piece; both give the same result.
public struct CRC32C: Hashable, Sendable {
    /// Whether this CPU's CRC-32C instruction is used.
    public static let usesHardware = tributary_crc32c_hw_available() != 0

    /// The reflected Castagnoli polynomial.
    public static let polynomial: UInt32 = 0x82F6_3B78

    private var state: UInt32 = 0xFFFF_FFFF

    /// Creates a checksum of no bytes.
    public init() {}

    /// The checksum of everything passed to ``update(_:)`` so far.
    public var value: UInt32 { state ^ 0xFFFF_FFFF }

    /// The checksum of `bytes`.
    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var crc = CRC32C()
        crc.update(bytes)
        return crc.value
    }

    /// The checksum of the bytes in `buffer`.
    public static func checksum(_ buffer: UnsafeRawBufferPointer) -> UInt32 {
        var crc = CRC32C()
        crc.update(buffer)
        return crc.value
    }

    /// Adds `bytes` to the checksum.
    public mutating func update(_ bytes: some Sequence<UInt8>) {
        let handled: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            update(UnsafeRawBufferPointer(buffer))
        }
        if handled == nil {
            let copy = Array(bytes)
            copy.withUnsafeBytes { update($0) }
        }
    }

    /// Adds the bytes in `buffer` to the checksum.
    public mutating func update(_ buffer: UnsafeRawBufferPointer) {
        if Self.usesHardware {
            guard let base = buffer.baseAddress, buffer.count > 0 else { return }
            state = tributary_crc32c_hw(state, base, buffer.count)
            return
        }
        updateInSoftware(buffer)
    }

    /// Adds the bytes in `buffer` with the portable table-driven loop, whatever the CPU offers
    /// (for tests that compare both paths).
    public mutating func updateInSoftware(_ buffer: UnsafeRawBufferPointer) {
        let tables = CRC32CTables.shared.entries
        var crc = state
        var index = 0
        let count = buffer.count
        tables.withUnsafeBufferPointer { table in
            while count - index >= 16 {
                let w0 = UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: index, as: UInt32.self)) ^ crc
                let w1 = UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: index + 4, as: UInt32.self))
                let w2 = UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: index + 8, as: UInt32.self))
                let w3 = UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: index + 12, as: UInt32.self))
                crc = table[15 * 256 + Int(w0 & 0xFF)] ^ table[14 * 256 + Int((w0 >> 8) & 0xFF)]
                    ^ table[13 * 256 + Int((w0 >> 16) & 0xFF)] ^ table[12 * 256 + Int(w0 >> 24)]
                    ^ table[11 * 256 + Int(w1 & 0xFF)] ^ table[10 * 256 + Int((w1 >> 8) & 0xFF)]
                    ^ table[9 * 256 + Int((w1 >> 16) & 0xFF)] ^ table[8 * 256 + Int(w1 >> 24)]
                    ^ table[7 * 256 + Int(w2 & 0xFF)] ^ table[6 * 256 + Int((w2 >> 8) & 0xFF)]
                    ^ table[5 * 256 + Int((w2 >> 16) & 0xFF)] ^ table[4 * 256 + Int(w2 >> 24)]
                    ^ table[3 * 256 + Int(w3 & 0xFF)] ^ table[2 * 256 + Int((w3 >> 8) & 0xFF)]
                    ^ table[1 * 256 + Int((w3 >> 16) & 0xFF)] ^ table[Int(w3 >> 24)]
                index += 16
            }
            while count - index >= 8 {
                let low = UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: index, as: UInt32.self)) ^ crc
                let high = UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: index + 4, as: UInt32.self))
                crc = table[7 * 256 + Int(low & 0xFF)]
                    ^ table[6 * 256 + Int((low >> 8) & 0xFF)]
                    ^ table[5 * 256 + Int((low >> 16) & 0xFF)]
                    ^ table[4 * 256 + Int(low >> 24)]
                    ^ table[3 * 256 + Int(high & 0xFF)]
                    ^ table[2 * 256 + Int((high >> 8) & 0xFF)]
                    ^ table[1 * 256 + Int((high >> 16) & 0xFF)]
                    ^ table[Int(high >> 24)]
                index += 8
            }
            while index < count {
                crc = table[Int((crc ^ UInt32(buffer[index])) & 0xFF)] ^ (crc >> 8)
                index += 1
            }
        }
        state = crc
    }
}

/// The sixteen slicing tables: table k maps a byte to its CRC contribution k bytes further on.
private struct CRC32CTables: Sendable {
    let entries: [UInt32]

    static let shared = CRC32CTables()

    private init() {
        var entries = [UInt32](repeating: 0, count: 16 * 256)
        for byte in 0..<256 {
            var crc = UInt32(byte)
            for _ in 0..<8 {
                crc = crc & 1 == 1 ? (crc >> 1) ^ CRC32C.polynomial : crc >> 1
            }
            entries[byte] = crc
        }
        for table in 1..<16 {
            for byte in 0..<256 {
                let previous = entries[(table - 1) * 256 + byte]
                entries[table * 256 + byte] = entries[Int(previous & 0xFF)] ^ (previous >> 8)
            }
        }
        self.entries = entries
    }
}
