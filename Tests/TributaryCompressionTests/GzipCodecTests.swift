import Testing
@testable import TributaryCompression

@Suite("GzipCodec")
struct GzipCodecTests {
    @Test("decodes Python's gzip module output (levels 1, 6, 9; concatenated members)")
    func knownAnswers() throws {
        try CompressionFixtures.checkKnownAnswers(file: "gzip.json", codec: GzipCodec(), minimumVectors: 20)
    }

    @Test("writes one gzip member with the RFC 1952 header and trailer")
    func format() throws {
        let input = Array("hello gzip".utf8)
        let compressed = try GzipCodec().compress(input)
        #expect(Array(compressed.prefix(3)) == [0x1F, 0x8B, 0x08])  // magic, deflate
        let trailer = Array(compressed.suffix(4))
        #expect(trailer == [UInt8(input.count), 0, 0, 0])  // ISIZE
    }

    @Test("levels are clamped to 1...9 and all decode")
    func levels() throws {
        #expect(GzipCodec(level: 0).level == 1)
        #expect(GzipCodec(level: 42).level == 9)
        let input = [UInt8](repeating: 0x61, count: 10_000) + Array("tail".utf8)
        for level in 1...9 {
            let codec = GzipCodec(level: level)
            #expect(try codec.decompress(try codec.compress(input), limit: input.count) == input)
        }
    }

    @Test("reads concatenated members of its own output")
    func concatenated() throws {
        let first = Array("first member;".utf8)
        let second = Array("second member".utf8)
        let joined = try GzipCodec().compress(first) + GzipCodec(level: 1).compress(second)
        #expect(try GzipCodec().decompress(joined, limit: 100) == first + second)
    }
}
