import Testing
import TributaryTestSupport
@testable import TributaryCompression

/// Hostile and damaged input must end in a `CompressionError` (or, where the damage still
/// decodes, some output within the limit): never a crash, a hang or a large allocation.
@Suite("Corrupt and truncated input")
struct CorruptInputTests {
    struct Case: Sendable {
        let name: String
        let codec: any CompressionCodec
        let compressed: [UInt8]
        let original: [UInt8]
        /// Formats without an end marker (xerial, several frames) decode cut-offs at boundaries.
        let prefixMayDecode: Bool
    }

    static func cases() throws -> [Case] {
        var rng = SeededRandom(seed: 42)
        let text = TestData.recordsJSON(size: 3000, using: &rng)
        let inputs = try CompressionFixtures.inputs()
        func reference(_ file: String, _ input: String, _ settings: String) throws -> [UInt8] {
            let vector = try #require(try CompressionFixtures.codecFile(file).vectors.first {
                $0.input == input && $0.settings == settings
            })
            return try CompressionFixtures.bytes(hex: vector.compressed)
        }
        let records5k = try #require(inputs["records-5k"])
        return [
            Case(name: "gzip", codec: GzipCodec(), compressed: try GzipCodec().compress(text), original: text, prefixMayDecode: false),
            Case(name: "snappy raw", codec: SnappyCodec(), compressed: try SnappyCodec().compress(text), original: text, prefixMayDecode: false),
            Case(name: "snappy xerial", codec: SnappyCodec(), compressed: try SnappyCodec(framing: .xerial).compress(text),
                 original: text, prefixMayDecode: true),
            Case(name: "lz4 (no checksums, as Kafka writes)", codec: LZ4Codec(), compressed: try LZ4Codec().compress(text), original: text, prefixMayDecode: false),
            Case(name: "lz4 reference linked + checksums", codec: LZ4Codec(),
                 compressed: try reference("lz4.json", "records-5k", "block 64K, linked, content checksum"),
                 original: records5k, prefixMayDecode: false),
            Case(name: "zstd (our compressor)", codec: ZstdCodec(), compressed: try ZstdCodec().compress(text), original: text, prefixMayDecode: false),
            Case(name: "zstd reference level 19", codec: ZstdCodec(),
                 compressed: try reference("zstd.json", "records-5k", "level 19, checksum"), original: records5k, prefixMayDecode: false),
            Case(name: "zstd reference level 3 no checksum", codec: ZstdCodec(),
                 compressed: try reference("zstd.json", "records-5k", "level 3, no checksum"), original: records5k, prefixMayDecode: false),
            Case(name: "zstd reference skew12 (direct Huffman weights)", codec: ZstdCodec(),
                 compressed: try reference("zstd.json", "skew12-3k", "level 19, no checksum"),
                 original: try #require(inputs["skew12-3k"]), prefixMayDecode: false),
        ]
    }

    static let caseCount = 9

    /// Decodes into an array that already holds 3 bytes, checking the error contract.
    static func decode(_ codec: any CompressionCodec, _ input: [UInt8], limit: Int) -> Result<[UInt8], CompressionError> {
        var output: [UInt8] = [7, 7, 7]
        do throws(CompressionError) {
            try codec.decompress(input, into: &output, limit: limit)
            #expect(output.prefix(3) == [7, 7, 7])
            return .success(Array(output.dropFirst(3)))
        } catch {
            #expect(output == [7, 7, 7], "output must be restored after \(error)")
            return .failure(error)
        }
    }

    @Test("the reference inputs decode intact", arguments: 0..<caseCount)
    func intact(index: Int) throws {
        let testCase = try Self.cases()[index]
        #expect(try Self.decode(testCase.codec, testCase.compressed, limit: testCase.original.count).get() == testCase.original)
    }

    @Test("every truncation point", arguments: 0..<caseCount)
    func truncation(index: Int) throws {
        let testCase = try Self.cases()[index]
        for cut in 0..<testCase.compressed.count {
            switch Self.decode(testCase.codec, Array(testCase.compressed.prefix(cut)), limit: testCase.original.count) {
            case .failure:
                break
            case .success(let output):
                #expect(testCase.prefixMayDecode, "\(testCase.name): a cut at \(cut) decoded")
                #expect(testCase.original.starts(with: output), "\(testCase.name): cut at \(cut) decoded to non-prefix")
            }
        }
    }

    @Test("random byte flips", arguments: 0..<caseCount)
    func flips(index: Int) throws {
        let testCase = try Self.cases()[index]
        var rng = SeededRandom()
        let limit = testCase.original.count + 4096
        var failures = 0
        for _ in 0..<400 {
            var mutated = testCase.compressed
            for _ in 0..<Int(rng.next() % 4 + 1) {
                let position = Int(rng.next() % UInt64(mutated.count))
                mutated[position] ^= UInt8(truncatingIfNeeded: rng.next() % 255 + 1)
            }
            switch Self.decode(testCase.codec, mutated, limit: limit) {
            case .failure: failures += 1
            case .success(let output): #expect(output.count <= limit, "\(testCase.name): seed \(rng.seed)")
            }
        }
        // Checksummed formats must notice nearly every flip; snappy has no checksum at all.
        if !testCase.name.hasPrefix("snappy") && !testCase.name.contains("no checksum") && !testCase.name.contains("skew12") {
            #expect(failures >= 390, "\(testCase.name): only \(failures) of 400 flips detected (seed \(rng.seed))")
        }
    }

    @Test("random bytes behind a valid magic number", arguments: ["lz4", "zstd", "xerial", "gzip"])
    func garbage(format: String) {
        var rng = SeededRandom()
        for _ in 0..<2000 {
            var input: [UInt8]
            let codec: any CompressionCodec
            switch format {
            case "lz4": input = [0x04, 0x22, 0x4D, 0x18]; codec = LZ4Codec()
            case "zstd": input = [0x28, 0xB5, 0x2F, 0xFD]; codec = ZstdCodec()
            case "xerial": input = SnappyCodec.xerialMagic + [0, 0, 0, 1, 0, 0, 0, 1]; codec = SnappyCodec()
            default: input = [0x1F, 0x8B, 0x08, 0x00]; codec = GzipCodec()
            }
            input += TestData.random(count: Int(rng.next() % 300), using: &rng)
            if case .success(let output) = Self.decode(codec, input, limit: 1 << 20) {
                #expect(output.count <= 1 << 20, "\(format) seed \(rng.seed)")
            }
        }
    }

    @Test("zstd blocks of random bytes behind a valid frame header")
    func zstdGarbageBlocks() {
        var rng = SeededRandom()
        for _ in 0..<3000 {
            // Frame: magic, single segment with 2-byte content size, then one compressed last block.
            let body = TestData.random(count: Int(rng.next() % 200 + 1), using: &rng)
            let header = 1 | (2 << 1) | (body.count << 3)
            let input: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD, 0x60, 0x00, 0x10,
                                  UInt8(header & 0xFF), UInt8((header >> 8) & 0xFF), UInt8(header >> 16)] + body
            if case .success(let output) = Self.decode(ZstdCodec(), input, limit: 1 << 20) {
                #expect(output.count <= 1 << 20, "seed \(rng.seed)")
            }
        }
    }

    @Test("lz4 blocks of random bytes behind a valid frame header")
    func lz4GarbageBlocks() {
        var rng = SeededRandom()
        for _ in 0..<3000 {
            let body = TestData.random(count: Int(rng.next() % 200 + 1), using: &rng)
            let size = UInt32(body.count)
            let input: [UInt8] = [0x04, 0x22, 0x4D, 0x18, 0x60, 0x40, 0x82,
                                  UInt8(size & 0xFF), UInt8(size >> 8), 0, 0] + body + [0, 0, 0, 0]
            if case .success(let output) = Self.decode(LZ4Codec(), input, limit: 1 << 20) {
                #expect(output.count <= 1 << 20, "seed \(rng.seed)")
            }
        }
    }

    @Test("snappy streams of random elements")
    func snappyGarbage() {
        var rng = SeededRandom()
        for _ in 0..<3000 {
            let declared = UInt8(rng.next() % 120)
            let input = [declared] + TestData.random(count: Int(rng.next() % 100), using: &rng)
            if case .success(let output) = Self.decode(SnappyCodec(), input, limit: 1 << 20) {
                #expect(output.count == Int(declared), "seed \(rng.seed)")
            }
        }
    }

    /// Decodes handcrafted hostile input with no limit and checks the code and that little was allocated.
    static func expectFailure(
        _ codec: any CompressionCodec, _ input: [UInt8], _ code: CompressionError.Code, limit: Int = Int.max,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        var output: [UInt8] = []
        do throws(CompressionError) {
            try codec.decompress(input, into: &output, limit: limit)
            Issue.record("decoded \(output.count) bytes; expected \(code)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
            #expect(!error.description.isEmpty)
        }
        #expect(output.capacity < 1 << 20, "allocated \(output.capacity) bytes", sourceLocation: sourceLocation)
    }

    @Test("absurd declared lengths in snappy")
    func snappyLengths() {
        // 4 GiB declared, one byte of body.
        Self.expectFailure(SnappyCodec(), [0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x00], .corruptInput)
        Self.expectFailure(SnappyCodec(), [0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x00], .outputLimitExceeded, limit: 1000)
        // A varint longer than 5 bytes.
        Self.expectFailure(SnappyCodec(), [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], .corruptInput)
        // A literal claiming 4 GiB.
        Self.expectFailure(SnappyCodec(), [0x04, 0xFC, 0xFF, 0xFF, 0xFF, 0xFF, 0x61], .truncated)
        // Copy with offset 0, and copy reaching before the start.
        Self.expectFailure(SnappyCodec(), [0x08, 0x0C, 0x61, 0x62, 0x63, 0x64, 0x01, 0x00], .corruptInput)
        Self.expectFailure(SnappyCodec(), [0x08, 0x0C, 0x61, 0x62, 0x63, 0x64, 0x01, 0x05], .corruptInput)
        // Elements producing more than declared.
        Self.expectFailure(SnappyCodec(), [0x02, 0x0C, 0x61, 0x62, 0x63, 0x64], .corruptInput)
        // xerial block length of 2 GiB.
        Self.expectFailure(SnappyCodec(), SnappyCodec.xerialMagic + [0, 0, 0, 1, 0, 0, 0, 1, 0x7F, 0xFF, 0xFF, 0xFF, 0x00], .truncated)
        Self.expectFailure(SnappyCodec(), [], .truncated)
    }

    @Test("absurd declared lengths and unsupported features in lz4")
    func lz4Lengths() {
        let header: [UInt8] = [0x04, 0x22, 0x4D, 0x18, 0x60, 0x40, 0x82]
        // Compressed block of 2 GiB in a 64 KiB frame.
        Self.expectFailure(LZ4Codec(), header + [0xFF, 0xFF, 0xFF, 0x7F, 0x00], .corruptInput)
        // Stored block of 64 KiB with 1 byte present.
        Self.expectFailure(LZ4Codec(), header + [0x00, 0x00, 0x01, 0x80, 0x00], .truncated)
        // Content size 2^63 (FLG 0x68 = version 1, independent, content size).
        var withSize: [UInt8] = [0x04, 0x22, 0x4D, 0x18, 0x68, 0x40, 0, 0, 0, 0, 0, 0, 0, 0x80]
        withSize.append(UInt8(truncatingIfNeeded: XXHash32.hash(withSize.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0[4...]) }) >> 8))
        Self.expectFailure(LZ4Codec(), withSize + [0, 0, 0, 0], .outputLimitExceeded, limit: 1 << 30)
        // A match longer than the block maximum: token 0x0F with 300 extension bytes of 255.
        let runaway: [UInt8] = [0x1F, 0x61, 0x01, 0x00] + [UInt8](repeating: 0xFF, count: 300) + [0x00, 0x00]
        let size = UInt32(runaway.count)
        Self.expectFailure(LZ4Codec(), header + [UInt8(size & 0xFF), UInt8(size >> 8), 0, 0] + runaway + [0, 0, 0, 0], .corruptInput)
        // Header checksum wrong (neither correct nor Kafka's legacy one).
        Self.expectFailure(LZ4Codec(), [0x04, 0x22, 0x4D, 0x18, 0x60, 0x40, 0x00, 0, 0, 0, 0], .corruptInput)
        // Block size code 3 and reserved bits.
        Self.expectFailure(LZ4Codec(), [0x04, 0x22, 0x4D, 0x18, 0x60, 0x30, 0x00, 0, 0, 0, 0], .corruptInput)
        Self.expectFailure(LZ4Codec(), [0x04, 0x22, 0x4D, 0x18, 0x62, 0x40, 0x00, 0, 0, 0, 0], .corruptInput)
        // Dictionary ID (FLG 0x61) is unsupported; so is the legacy frame format.
        var withDictionary: [UInt8] = [0x04, 0x22, 0x4D, 0x18, 0x61, 0x40, 1, 2, 3, 4]
        withDictionary.append(UInt8(truncatingIfNeeded: XXHash32.hash(withDictionary.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0[4...]) }) >> 8))
        Self.expectFailure(LZ4Codec(), withDictionary + [0, 0, 0, 0], .unsupported)
        Self.expectFailure(LZ4Codec(), [0x02, 0x21, 0x4C, 0x18, 0, 0, 0, 0], .unsupported)
        // Skippable frame claiming 4 GiB; not a frame at all; empty.
        Self.expectFailure(LZ4Codec(), [0x50, 0x2A, 0x4D, 0x18, 0xFF, 0xFF, 0xFF, 0xFF, 0x00], .truncated)
        Self.expectFailure(LZ4Codec(), [0x00, 0x01, 0x02, 0x03, 0x04], .corruptInput)
        Self.expectFailure(LZ4Codec(), [], .truncated)
    }

    @Test("absurd declared lengths and unsupported features in zstd")
    func zstdLengths() {
        let magic: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD]
        // Content size 2^63 (FCS flag 3, window descriptor present).
        Self.expectFailure(ZstdCodec(), magic + [0xC0, 0x38, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x01, 0x00, 0x00], .outputLimitExceeded, limit: 1 << 30)
        // Content size 2^40 without a limit: nothing is reserved for it, and the frame is too short.
        Self.expectFailure(ZstdCodec(), magic + [0xC0, 0x38, 0, 0, 0, 0, 0, 0x01, 0, 0, 0x01, 0x00, 0x00], .corruptInput)
        // A raw block larger than the block maximum (window 1 KiB, block 2 KiB).
        Self.expectFailure(ZstdCodec(), magic + [0x00, 0x00, 0x01, 0x40, 0x00], .corruptInput)
        // A huge window with an RLE block of 128 KiB, many times over: limited, not allocated.
        let rle: [UInt8] = [0x02, 0x00, 0x10, 0x41]  // RLE block, 128 KiB of "A", not last
        Self.expectFailure(ZstdCodec(), magic + [0x00, 0xF8] + Array(repeating: rle, count: 100).flatMap { $0 } + [0x01, 0, 0],
                           .outputLimitExceeded, limit: 500_000)
        // Reserved block type, reserved header bit, dictionary ID.
        Self.expectFailure(ZstdCodec(), magic + [0x00, 0x38, 0x07, 0x00, 0x00], .corruptInput)
        Self.expectFailure(ZstdCodec(), magic + [0x08, 0x38, 0x01, 0x00, 0x00], .corruptInput)
        Self.expectFailure(ZstdCodec(), magic + [0x01, 0x38, 0x07, 0x01, 0x00, 0x00], .unsupported)
        // Compressed block: raw literals claiming 1 MiB (size format 3).
        Self.expectFailure(ZstdCodec(), magic + [0x00, 0x38, 0x25, 0x00, 0x00, 0x0C, 0xFF, 0xFF, 0x00], .corruptInput)
        // Compressed block: no literals, 0x7FFF+255+256*255 sequences, predefined tables, 1-byte bitstream.
        Self.expectFailure(ZstdCodec(), magic + [0x00, 0x38, 0x35, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0x00, 0x01], .corruptInput)
        // Huffman literals whose tree claims 128 direct weights but the block ends.
        Self.expectFailure(ZstdCodec(), magic + [0x00, 0x38, 0x2D, 0x00, 0x00, 0x02, 0x41, 0x00, 0xFF, 0x00], .corruptInput)
        // Treeless literals with no earlier tree.
        Self.expectFailure(ZstdCodec(), magic + [0x00, 0x38, 0x2D, 0x00, 0x00, 0x03, 0x41, 0x00, 0x80, 0x00], .corruptInput)
        // Repeat-mode sequence tables with no earlier table.
        Self.expectFailure(ZstdCodec(), magic + [0x00, 0x38, 0x25, 0x00, 0x00, 0x00, 0x01, 0xFC, 0x80], .corruptInput)
        // Skippable frame claiming 4 GiB; truncated header; empty.
        Self.expectFailure(ZstdCodec(), [0x5F, 0x2A, 0x4D, 0x18, 0xFF, 0xFF, 0xFF, 0xFF], .truncated)
        Self.expectFailure(ZstdCodec(), magic + [0xC0], .truncated)
        Self.expectFailure(ZstdCodec(), [], .truncated)
    }

    @Test("malformed gzip")
    func gzip() throws {
        // A zlib (not gzip) stream.
        Self.expectFailure(GzipCodec(), [0x78, 0x9C, 0x4B, 0x4C, 0x4A, 0x06, 0x00, 0x02, 0x4D, 0x01, 0x27,
                                         0, 0, 0, 0, 0, 0, 0, 0], .corruptInput)
        // A header announcing 64 KiB of extra field.
        Self.expectFailure(GzipCodec(), [0x1F, 0x8B, 0x08, 0x04, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF] + [UInt8](repeating: 0, count: 10), .truncated)
        // A valid member followed by garbage.
        let member = try GzipCodec().compress(Array("hello".utf8))
        Self.expectFailure(GzipCodec(), member + [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09], .corruptInput)
        // Wrong length in the trailer.
        var wrongLength = member
        wrongLength[wrongLength.count - 4] ^= 1
        Self.expectFailure(GzipCodec(), wrongLength, .corruptInput)
        Self.expectFailure(GzipCodec(), [0x1F, 0x8B], .truncated)
    }
}
