import Testing
import TributaryTestSupport
@testable import TributaryCompression

@Suite("LZ4Codec")
struct LZ4CodecTests {
    @Test("decodes liblz4 frames: 64K/256K/4M blocks, linked and independent, checksums, content size, legacy header checksum")
    func knownAnswers() throws {
        try CompressionFixtures.checkKnownAnswers(file: "lz4.json", codec: LZ4Codec(), minimumVectors: 20)
    }

    @Test("frame header matches Kafka's Java client: version 1, independent blocks, 64 KiB, checksum 0x82")
    func header() throws {
        let frame = try LZ4Codec().compress(Array("x".utf8))
        #expect(Array(frame.prefix(7)) == [0x04, 0x22, 0x4D, 0x18, 0x60, 0x40, 0x82])
        #expect(Array(frame.suffix(4)) == [0, 0, 0, 0])  // EndMark, no content checksum
        #expect(try LZ4Codec().compress([]) == [0x04, 0x22, 0x4D, 0x18, 0x60, 0x40, 0x82, 0, 0, 0, 0])
    }

    /// Splits one of our frames into its blocks: (stored flag, block bytes).
    static func blocks(of frame: [UInt8]) -> [(Bool, [UInt8])] {
        var result: [(Bool, [UInt8])] = []
        var at = 7
        while true {
            let word = frame[at..<(at + 4)].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            at += 4
            if word == 0 { return result }
            let size = Int(word & 0x7FFF_FFFF)
            result.append((word & 0x8000_0000 != 0, Array(frame[at..<(at + size)])))
            at += size
        }
    }

    @Test("blocks are independent: each decodes alone to its 64 KiB slice")
    func independentBlocks() throws {
        var rng = SeededRandom(seed: 8)
        let input = TestData.recordsJSON(size: 200_000, using: &rng)
        let blocks = Self.blocks(of: try LZ4Codec().compress(input))
        #expect(blocks.count == 4)
        for (index, (stored, bytes)) in blocks.enumerated() {
            #expect(!stored)
            let size = UInt32(bytes.count)
            let single: [UInt8] = [0x04, 0x22, 0x4D, 0x18, 0x60, 0x40, 0x82,
                                   UInt8(size & 0xFF), UInt8((size >> 8) & 0xFF), UInt8(size >> 16), 0] + bytes + [0, 0, 0, 0]
            let slice = Array(input[(index * 65536)..<min(input.count, (index + 1) * 65536)])
            #expect(try LZ4Codec().decompress(single, limit: 65536) == slice)
        }
    }

    @Test("incompressible blocks are stored uncompressed")
    func storedBlocks() throws {
        var rng = SeededRandom(seed: 9)
        let input = TestData.random(count: 100_000, using: &rng)
        let frame = try LZ4Codec().compress(input)
        #expect(Self.blocks(of: frame).allSatisfy { $0.0 })
        #expect(frame.count == 7 + 2 * 4 + 100_000 + 4)
    }

    @Test("accepts Kafka's pre-0.10 header checksum (KIP-57), computed over the magic too")
    func legacyHeaderChecksum() throws {
        var frame = try LZ4Codec().compress(Array("legacy kafka".utf8))
        let legacy = frame.withUnsafeBytes { UInt8(truncatingIfNeeded: XXHash32.hash(UnsafeRawBufferPointer(rebasing: $0[0..<6])) >> 8) }
        #expect(legacy != 0x82)
        frame[6] = legacy
        #expect(try LZ4Codec().decompress(frame, limit: 100) == Array("legacy kafka".utf8))
        frame[6] = legacy &+ 1
        #expect(throws: CompressionError.self) { try LZ4Codec().decompress(frame, limit: 100) }
    }

    @Test("reads concatenated and skippable frames")
    func concatenated() throws {
        let skippable: [UInt8] = [0x5A, 0x2A, 0x4D, 0x18, 3, 0, 0, 0, 1, 2, 3]
        let joined = try LZ4Codec().compress(Array("one,".utf8)) + skippable + LZ4Codec().compress(Array("two".utf8))
        #expect(try LZ4Codec().decompress(joined, limit: 100) == Array("one,two".utf8))
    }
}
