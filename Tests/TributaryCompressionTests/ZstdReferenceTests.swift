import Foundation
import Testing
import TributaryTestSupport
@testable import TributaryCompression

/// Our frames checked against the reference implementation, the `zstd` command line tool
/// (test-only; Tools/test.sh installs the apt package when it is missing). A missing tool fails
/// these tests: they are never skipped.
@Suite("ZstdReference")
struct ZstdReferenceTests {
    @Test("the zstd CLI decodes every frame we write to the same bytes")
    func referenceDecodes() throws {
        for (name, input) in ZstdEncoderTests.corpus() {
            let frame = try ZstdCodec().compress(input)
            let decoded = try ZstdCLI.run(["-d", "-c", "-q"], input: frame)
            #expect(decoded == input, "\(name): zstd -d gives \(decoded.count) bytes, expected \(input.count)")
        }
    }

    @Test("the zstd CLI decodes seeded random-structure frames (seed printed on failure)")
    func referenceDecodesFuzz() throws {
        let seed: UInt64 = 0x2575_CAFE
        var rng = SeededRandom(seed: seed)
        // Several inputs per CLI run: concatenated frames decode to the concatenated inputs.
        for batch in 0..<10 {
            var frames: [UInt8] = []
            var expected: [UInt8] = []
            for _ in 0..<12 {
                let input: [UInt8]
                switch rng.next() % 4 {
                case 0: input = TestData.mixed(size: Int(rng.next() % 300_000) + 1, using: &rng)
                case 1: input = TestData.recordsJSON(size: Int(rng.next() % 200_000) + 1, using: &rng)
                case 2: input = ZstdCorpus.repeatedOffsets(size: Int(rng.next() % 150_000) + 1, seed: rng.next())
                default: input = TestData.random(count: Int(rng.next() % 600), using: &rng)
                }
                frames += try ZstdCodec().compress(input)
                expected += input
            }
            let decoded = try ZstdCLI.run(["-d", "-c", "-q"], input: frames)
            #expect(decoded == expected, "seed \(seed) batch \(batch): zstd -d gives \(decoded.count) bytes, expected \(expected.count)")
        }
    }

    @Test("compressed size within 1.5x of zstd -1 on order events, text and kafka-bench records")
    func ratioAgainstLevel1() throws {
        let corpora: [(String, [UInt8])] = [
            ("JSON order events (1 MiB)", ZstdCorpus.orderEvents(size: 1 << 20, seed: 1)),
            ("text (README and docs)", ZstdCorpus.text()),
            ("kafka-bench records (8,000 x 100 B)", ZstdCorpus.kafkaBenchRecords(count: 8000)),
        ]
        for (name, input) in corpora {
            #expect(input.count > 10_000, "\(name): corpus missing")
            let ours = try ZstdCodec().compress(input).count
            let reference = try ZstdCLI.run(["-1", "-c", "-q"], input: input).count
            let summary = "\(name): \(input.count) bytes -> ours \(ours), zstd -1 \(reference) "
                + "(\(String(format: "%.2f", Double(ours) / Double(max(reference, 1))))x)"
            print("zstd ratio: " + summary)
            #expect(reference > 0)
            #expect(Double(ours) <= 1.5 * Double(reference), "\(summary); must be within 1.5x")
        }
    }
}
