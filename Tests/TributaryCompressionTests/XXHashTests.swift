import Testing
@testable import TributaryCompression

@Suite("xxHash32 and xxHash64")
struct XXHashTests {
    @Test("match python xxhash on every fixture input, with and without a seed")
    func knownAnswers() throws {
        let fixtures = try CompressionFixtures.hashFile()
        let inputs = try CompressionFixtures.inputs()
        #expect(fixtures.vectors.count >= 10)
        for vector in fixtures.vectors {
            let input = try #require(inputs[vector.input])
            input.withUnsafeBytes { bytes in
                #expect(XXHash32.hash(bytes, seed: UInt32(vector.seed)) == vector.xxh32, "xxh32 \(vector.input) seed \(vector.seed)")
                #expect(XXHash64.hash(bytes, seed: vector.seed) == vector.xxh64, "xxh64 \(vector.input) seed \(vector.seed)")
            }
        }
    }

    @Test("the published hashes of the empty input")
    func empty() {
        #expect(XXHash32.hash(UnsafeRawBufferPointer(start: nil, count: 0)) == 0x02CC_5D05)
        #expect(XXHash64.hash(UnsafeRawBufferPointer(start: nil, count: 0)) == 0xEF46_DB37_51D8_E999)
    }
}
