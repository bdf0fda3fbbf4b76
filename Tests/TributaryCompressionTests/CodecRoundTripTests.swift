import Testing
import TributaryTestSupport
@testable import TributaryCompression

/// Every codec must give back exactly what it was given, for every kind of input.
@Suite("Codec round trips")
struct CodecRoundTripTests {
    static let codecs: [(String, any CompressionCodec)] = [
        ("none", IdentityCodec()),
        ("gzip", GzipCodec()),
        ("gzip level 1", GzipCodec(level: 1)),
        ("gzip level 9", GzipCodec(level: 9)),
        ("snappy raw", SnappyCodec()),
        ("snappy xerial", SnappyCodec(framing: .xerial)),
        ("lz4", LZ4Codec()),
        ("zstd", ZstdCodec()),
    ]

    static func inputs(seed: UInt64) -> [(String, [UInt8])] {
        var rng = SeededRandom(seed: seed)
        return [
            ("empty", []),
            ("one byte", [0x2A]),
            ("tiny text", Array("kafka".utf8)),
            ("highly repetitive 300 KiB", TestData.repetitive(size: 300_000)),
            ("random 100 KiB", TestData.random(count: 100_000, using: &rng)),
            ("records JSON 200 KiB", TestData.recordsJSON(size: 200_000, using: &rng)),
            ("mixed 1 MiB", TestData.mixed(size: 1 << 20, using: &rng)),
            ("random 17 bytes", TestData.random(count: 17, using: &rng)),
        ]
    }

    @Test("round trip", arguments: 0..<codecs.count)
    func roundTrip(codecIndex: Int) throws {
        let (name, codec) = Self.codecs[codecIndex]
        let seed = SeededRandom().seed
        for (inputName, input) in Self.inputs(seed: seed) {
            let compressed = try codec.compress(input)
            let restored = try codec.decompress(compressed, limit: input.count)
            #expect(restored == input, "\(name) / \(inputName): round trip differs (seed \(seed))")
        }
    }

    @Test("appends after existing bytes and leaves them alone", arguments: 0..<codecs.count)
    func appends(codecIndex: Int) throws {
        let (name, codec) = Self.codecs[codecIndex]
        var rng = SeededRandom(seed: 7)
        let input = TestData.recordsJSON(size: 50_000, using: &rng)
        var compressed: [UInt8] = [1, 2, 3]
        input.withUnsafeBytes { bytes in
            do { try codec.compress(bytes, into: &compressed) } catch { Issue.record("\(name): \(error)") }
        }
        #expect(compressed.prefix(3) == [1, 2, 3])
        var output: [UInt8] = [9, 9]
        try compressed.dropFirst(3).withUnsafeBytes { bytes in
            try codec.decompress(bytes, into: &output, limit: input.count)
        }
        #expect(output.prefix(2) == [9, 9], "\(name)")
        #expect(Array(output.dropFirst(2)) == input, "\(name)")
    }

    @Test("real compressors shrink record JSON", arguments: ["gzip", "snappy raw", "snappy xerial", "lz4"])
    func shrinks(name: String) throws {
        let codec = try #require(Self.codecs.first { $0.0 == name }?.1)
        var rng = SeededRandom(seed: 11)
        let input = TestData.recordsJSON(size: 256_000, using: &rng)
        let compressed = try codec.compress(input)
        #expect(compressed.count < input.count / 2, "\(name) compressed \(input.count) to \(compressed.count)")
    }

    @Test("Compression.codec(for:) covers every Kafka codec")
    func factory() throws {
        for kind in KafkaCompressionCodec.allCases {
            let codec = try Compression.codec(for: kind)
            let input = Array("record batch payload for \(kind)".utf8)
            #expect(try codec.decompress(try codec.compress(input), limit: 1000) == input)
        }
        #expect(KafkaCompressionCodec(rawValue: 4) == .zstd)
        #expect(KafkaCompressionCodec(rawValue: 5) == nil)
        #expect(try Compression.codec(for: .snappy) is SnappyCodec)
        #expect(try Compression.codec(for: .lz4) is LZ4Codec)
    }
}
