/// CRC-32 (IEEE 802.3, as in zlib and `java.util.zip.CRC32`), the checksum of legacy Kafka
/// messages (magic 0 and 1). Reflected polynomial `0xEDB88320`, initial value and final XOR
/// `0xFFFFFFFF`; one 256-entry table, built once.
enum CRC32 {
    static let polynomial: UInt32 = 0xEDB8_8320

    private static let table: [UInt32] = (0..<256).map { byte in
        var crc = UInt32(byte)
        for _ in 0..<8 {
            crc = crc & 1 == 1 ? (crc >> 1) ^ polynomial : crc >> 1
        }
        return crc
    }

    /// The checksum of `bytes`.
    static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { table in
            for byte in bytes {
                crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
            }
        }
        return crc ^ 0xFFFF_FFFF
    }
}
