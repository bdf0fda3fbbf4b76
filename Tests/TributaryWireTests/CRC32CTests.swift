import Testing
import TributaryTestSupport
import TributaryWire

/// CRC-32C against published vectors and a bit-at-a-time reference.
@Suite("CRC32C")
struct CRC32CTests {
    /// The bitwise definition, for comparison with the slicing-by-8 implementation.
    static func reference(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        return crc ^ 0xFFFF_FFFF
    }

    @Test("the standard check value: \"123456789\" gives 0xE3069283")
    func checkValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }

    @Test("Kafka's Crc32CTest.testValue: \"Some String\" gives 608512271")
    func kafkaValue() {
        // clients/src/test/java/org/apache/kafka/common/utils/Crc32CTest.java, apache/kafka 1eb76443.
        #expect(CRC32C.checksum(Array("Some String".utf8)) == 608_512_271)
    }

    @Test("RFC 3720 (iSCSI) appendix B.4 vectors")
    func rfc3720() {
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(CRC32C.checksum((0..<32).reversed().map { UInt8($0) }) == 0x113F_DB5C)
    }

    @Test("no bytes give 0")
    func empty() {
        #expect(CRC32C.checksum([UInt8]()) == 0)
        #expect(CRC32C().value == 0)
    }

    @Test("every length and alignment matches the bitwise reference")
    func matchesReference() {
        var random = SeededRandom()
        let data = (0..<300).map { _ in UInt8.random(in: 0...255, using: &random) }
        for start in 0..<9 {
            for end in start...data.count {
                let slice = Array(data[start..<end])
                #expect(CRC32C.checksum(slice) == Self.reference(slice), "seed \(random.seed), bytes \(start)..<\(end)")
            }
        }
    }

    @Test("the CPU instruction and the portable tables agree on every length and alignment")
    func hardwareMatchesSoftware() {
        var random = SeededRandom()
        let data = (0..<2_100).map { _ in UInt8.random(in: 0...255, using: &random) }
        for start in 0..<9 {
            for end in stride(from: start, through: data.count, by: 7) {
                var fast = CRC32C(), portable = CRC32C()
                data[start..<end].withUnsafeBytes {
                    fast.update($0)
                    portable.updateInSoftware($0)
                }
                #expect(fast.value == portable.value, "seed \(random.seed), bytes \(start)..<\(end), hardware \(CRC32C.usesHardware)")
                #expect(portable.value == Self.reference(Array(data[start..<end])))
            }
        }
    }

    @Test("updating piece by piece equals one pass (Kafka's Crc32CTest.testUpdate)")
    func incremental() {
        let bytes = Array("Any String you want".utf8)
        let whole = CRC32C.checksum(bytes)
        var byByte = CRC32C()
        for byte in bytes { byByte.update([byte]) }
        #expect(byByte.value == whole)
        for split in 0...bytes.count {
            var halves = CRC32C()
            halves.update(bytes[..<split])
            halves.update(bytes[split...])
            #expect(halves.value == whole)
        }
        let raw = bytes.withUnsafeBytes { CRC32C.checksum($0) }
        #expect(raw == whole)
        // A sequence without contiguous storage takes the copying path.
        #expect(CRC32C.checksum(bytes.lazy.map { $0 }) == whole)
    }
}
