import Testing
import TributaryTestSupport
@testable import TributaryCompression

/// Decompression bombs stop at the caller's limit without allocating past it.
@Suite("Output limit")
struct OutputLimitTests {
    static let codecs: [(String, any CompressionCodec)] = [
        ("none", IdentityCodec()),
        ("gzip", GzipCodec()),
        ("snappy raw", SnappyCodec()),
        ("snappy xerial", SnappyCodec(framing: .xerial)),
        ("lz4", LZ4Codec()),
        ("zstd", ZstdCodec()),
    ]

    @Test("a compressible input larger than the limit throws .outputLimitExceeded", arguments: 0..<codecs.count)
    func bomb(index: Int) throws {
        let (name, codec) = Self.codecs[index]
        let input = [UInt8](repeating: 0, count: 8 << 20)
        let compressed = try codec.compress(input)
        let limit = 1 << 20
        var output: [UInt8] = []
        do throws(CompressionError) {
            try codec.decompress(compressed, into: &output, limit: limit)
            Issue.record("\(name): decoded past the limit")
        } catch {
            #expect(error.code == .outputLimitExceeded, "\(name): \(error)")
            #expect(error.codec.rawValue == Int8(index == 0 ? 0 : [1, 2, 2, 3, 4][index - 1]))
        }
        #expect(output.isEmpty)
        #expect(output.capacity <= limit + 65536, "\(name): allocated \(output.capacity) bytes for a \(limit)-byte limit")
    }

    @Test("a reference zstd bomb (compressed blocks) stops at the limit")
    func referenceZstdBomb() throws {
        let vector = try #require(try CompressionFixtures.codecFile("zstd.json").vectors.first {
            $0.input == "zeros-150k" && $0.settings == "level 19, checksum"
        })
        let compressed = try CompressionFixtures.bytes(hex: vector.compressed)
        #expect(throws: CompressionError.self) { try ZstdCodec().decompress(compressed, limit: 100_000) }
        let vectors = try CompressionFixtures.codecFile("zstd.json").vectors.filter { $0.input == "records-200k" }
        for vector in vectors {
            let compressed = try CompressionFixtures.bytes(hex: vector.compressed)
            do throws(CompressionError) {
                _ = try ZstdCodec().decompress(compressed, limit: 150_000)
                Issue.record("\(vector.settings): decoded past the limit")
            } catch {
                #expect(error.code == .outputLimitExceeded, "\(vector.settings): \(error)")
            }
        }
    }

    @Test("exactly at the limit succeeds; one byte under fails", arguments: 0..<codecs.count)
    func exactLimit(index: Int) throws {
        let (name, codec) = Self.codecs[index]
        var rng = SeededRandom(seed: 3)
        for size in [0, 1, 1000, 70_000, 300_000] {
            let input = TestData.mixed(size: size, using: &rng)
            let compressed = try codec.compress(input)
            #expect(try codec.decompress(compressed, limit: size) == input, "\(name) size \(size)")
            if size > 0 {
                do throws(CompressionError) {
                    _ = try codec.decompress(compressed, limit: size - 1)
                    Issue.record("\(name) size \(size): limit not enforced")
                } catch {
                    #expect(error.code == .outputLimitExceeded, "\(name) size \(size): \(error)")
                }
            }
        }
    }

    @Test("negative and zero limits")
    func tinyLimits() throws {
        for (name, codec) in Self.codecs {
            let compressed = try codec.compress([1, 2, 3])
            #expect(throws: CompressionError.self, "\(name)") { try codec.decompress(compressed, limit: 0) }
            #expect(throws: CompressionError.self, "\(name)") { try codec.decompress(compressed, limit: -5) }
            #expect(try codec.decompress(try codec.compress([]), limit: 0) == [], "\(name)")
        }
    }
}
