import Testing
import TributaryTestSupport
@testable import TributaryCompression

@Suite("ZstdCodec")
struct ZstdCodecTests {
    @Test("decodes libzstd frames: levels -5/1/3/19, Huffman and FSE, RLE and raw, several blocks and frames")
    func knownAnswers() throws {
        try CompressionFixtures.checkKnownAnswers(file: "zstd.json", codec: ZstdCodec(), minimumVectors: 40)
    }

    @Test("the empty frame: single segment, content size 0, one empty raw block, checksum of nothing")
    func emptyFrame() throws {
        // xxHash64 of no bytes is 0xEF46DB3751D8E999; the frame stores its low 32 bits.
        #expect(try ZstdCodec().compress([]) == [0x28, 0xB5, 0x2F, 0xFD, 0x24, 0x00, 0x01, 0x00, 0x00, 0x99, 0xE9, 0xD8, 0x51])
    }

    @Test("runs become RLE blocks, incompressible data raw blocks, so output is never much larger than input")
    func blockChoice() throws {
        let zeros = try ZstdCodec().compress([UInt8](repeating: 0, count: 1 << 20))
        #expect(zeros.count == 4 + 6 + 8 * 4 + 4)  // header, eight 4-byte RLE blocks, checksum
        var rng = SeededRandom(seed: 10)
        let random = TestData.random(count: 300_000, using: &rng)
        let stored = try ZstdCodec().compress(random)
        #expect(stored.count == 4 + 6 + 3 * 3 + 300_000 + 4)
    }

    @Test("content size field widths: 1, 2, 4 bytes at the boundaries")
    func contentSizeFields() throws {
        for size in [0, 255, 256, 65791, 65792, 200_000] {
            let input = [UInt8](repeating: 7, count: size)
            let frame = try ZstdCodec().compress(input)
            #expect(try ZstdCodec().decompress(frame, limit: size) == input, "size \(size)")
        }
    }

    @Test("a damaged checksum or content size is reported")
    func integrity() throws {
        var frame = try ZstdCodec().compress(Array("checksummed".utf8))
        frame[frame.count - 1] ^= 0x40
        #expect(throws: CompressionError.self) { try ZstdCodec().decompress(frame, limit: 100) }
        var sized = try ZstdCodec().compress(Array("sized".utf8))
        sized[5] = 4  // content size 4 instead of 5
        #expect(throws: CompressionError.self) { try ZstdCodec().decompress(sized, limit: 100) }
    }

    @Test("reads several frames with skippable frames between")
    func concatenated() throws {
        let skippable: [UInt8] = [0x50, 0x2A, 0x4D, 0x18, 2, 0, 0, 0, 9, 9]
        let joined = try ZstdCodec().compress(Array("a".utf8)) + skippable + ZstdCodec().compress(Array("bc".utf8)) + skippable
        #expect(try ZstdCodec().decompress(joined, limit: 10) == Array("abc".utf8))
    }
}
