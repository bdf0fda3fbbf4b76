import Testing
import TributaryTestSupport
@testable import TributaryCompression

@Suite("SnappyCodec")
struct SnappyCodecTests {
    @Test("decodes python-snappy raw output and xerial frames built from it")
    func knownAnswers() throws {
        try CompressionFixtures.checkKnownAnswers(file: "snappy.json", codec: SnappyCodec(), minimumVectors: 20)
    }

    @Test("raw output starts with the uncompressed length varint")
    func rawFormat() throws {
        let input = [UInt8](repeating: 0x62, count: 300)
        let compressed = try SnappyCodec().compress(input)
        #expect(Array(compressed.prefix(2)) == [0xAC, 0x02])  // 300 = 0b10_0101100
        #expect(compressed.count < 30)
        #expect(try SnappyCodec().compress([]) == [0x00])
    }

    @Test("xerial output: magic, versions 1 and 1, then 32 KiB blocks with big-endian lengths")
    func xerialFormat() throws {
        var rng = SeededRandom(seed: 5)
        let input = TestData.recordsJSON(size: 100_000, using: &rng)
        let compressed = try SnappyCodec(framing: .xerial).compress(input)
        #expect(Array(compressed.prefix(16)) == SnappyCodec.xerialMagic + [0, 0, 0, 1, 0, 0, 0, 1])
        var at = 16
        var blocks: [[UInt8]] = []
        while at < compressed.count {
            let size = compressed[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) }
            let raw = Array(compressed[(at + 4)..<(at + 4 + size)])
            blocks.append(try SnappyCodec().decompress(raw, limit: 32 * 1024))
            at += 4 + size
        }
        #expect(at == compressed.count)
        #expect(blocks.map(\.count) == [32768, 32768, 32768, 100_000 - 3 * 32768])
        #expect(blocks.flatMap { $0 } == input)
        #expect(try SnappyCodec(framing: .xerial).compress([]) == SnappyCodec.xerialMagic + [0, 0, 0, 1, 0, 0, 0, 1])
    }

    @Test("decodes every element kind, including 4-byte-offset copies and long literals")
    func elementKinds() throws {
        // "abcd" literal, copy-4 (length 4, offset 4), copy-1 (length 5, offset 2), copy-2 (length 3, offset 8).
        let stream: [UInt8] = [16, 0x0C, 0x61, 0x62, 0x63, 0x64, 0x0F, 4, 0, 0, 0, 0x05, 2, 0x0A, 8, 0]
        #expect(try SnappyCodec().decompress(stream, limit: 16) == Array("abcdabcdcdcdcbcd".utf8))
        // A 70-byte literal with a 1-byte length extension (tag 60).
        let literal = [UInt8](repeating: 0x7A, count: 70)
        #expect(try SnappyCodec().decompress([70, 60 << 2, 69] + literal, limit: 70) == literal)
    }

    @Test("a raw stream whose first bytes resemble the xerial magic still decodes as raw")
    func detection() throws {
        // 0x82 0x53 is the varint 10626, then a literal with a 4-byte length: only the full
        // 8-byte magic selects xerial framing.
        let literal = [UInt8](repeating: 0x4E, count: 10626)
        let raw: [UInt8] = [0x82, 0x53, 0xFC, 0x81, 0x29, 0x00, 0x00] + literal
        #expect(try SnappyCodec().decompress(raw, limit: 20_000) == literal)
    }
}
