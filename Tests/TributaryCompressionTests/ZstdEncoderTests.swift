import Foundation
import Testing
import TributaryTestSupport
@testable import TributaryCompression

@Suite("ZstdEncoder")
struct ZstdEncoderTests {
    /// Compresses, checks the raw-block size bound, decompresses with our decoder; returns the frame.
    @discardableResult
    static func roundTrip(_ input: [UInt8], _ note: String) throws -> [UInt8] {
        let frame = try ZstdCodec().compress(input)
        #expect(frame.count <= ZstdEncoder.frameBound(input.count), "\(note): frame of \(frame.count) bytes for \(input.count)")
        let back = try ZstdCodec().decompress(frame, limit: input.count)
        #expect(back == input, "\(note): \(input.count) bytes do not round-trip")
        return frame
    }

    /// The inputs every zstd check runs over (round trip here, the reference CLI in ZstdReferenceTests).
    static func corpus() -> [(String, [UInt8])] {
        var rng = SeededRandom(seed: 0x2575)
        var inputs: [(String, [UInt8])] = [
            ("empty", []),
            ("one byte", [0x42]),
            ("two bytes", [0, 255]),
            ("short text", Array("hello, hello, hello zstd".utf8)),
            ("255 bytes", TestData.recordsJSON(size: 255, using: &rng)),
            ("256 bytes", TestData.recordsJSON(size: 256, using: &rng)),
            ("run of 100", [UInt8](repeating: 7, count: 100)),
            ("run of 1 MiB", [UInt8](repeating: 0, count: 1 << 20)),
            ("random 5000", TestData.random(count: 5000, using: &rng)),
            ("random 300000", TestData.random(count: 300_000, using: &rng)),
            ("text", ZstdCorpus.text()),
            ("order events 1 MiB", ZstdCorpus.orderEvents(size: 1 << 20, seed: 11)),
            ("kafka-bench records", ZstdCorpus.kafkaBenchRecords(count: 3000)),
            ("repeated offsets", ZstdCorpus.repeatedOffsets(size: 200_000, seed: 12)),
            ("long matches", { () -> [UInt8] in
                var rng = SeededRandom(seed: 13)
                let block = TestData.random(count: 100_000, using: &rng)
                return block + block + block
            }()),
            ("repetitive", TestData.repetitive(size: 300_001)),
            ("mixed 1 MiB", TestData.mixed(size: 1 << 20, using: &rng)),
            ("binary alphabet above 128", (0..<50_000).map { UInt8(truncatingIfNeeded: 128 + (($0 * $0) >> 5) % 100) }),
        ]
        for size in [131_071, 131_072, 131_073, 262_144 + 13] {
            inputs.append(("mixed \(size)", TestData.mixed(size: size, using: &rng)))
            inputs.append(("json \(size)", TestData.recordsJSON(size: size, using: &rng)))
        }
        for distance in [131_070, 131_071, 131_072, 131_073] {
            inputs.append(("window edge \(distance)", ZstdCorpus.windowEdge(distance: distance, seed: UInt64(distance))))
        }
        return inputs
    }

    @Test("round trips through our decoder: empty, tiny, runs, random, text, JSON, block and window edges")
    func roundTrips() throws {
        for (name, input) in Self.corpus() {
            try Self.roundTrip(input, name)
        }
    }

    @Test("realistic data shrinks: compressed blocks with Huffman literals and FSE tables")
    func compresses() throws {
        let orders = ZstdCorpus.orderEvents(size: 300_000, seed: 21)
        let frame = try Self.roundTrip(orders, "order events")
        #expect(frame.count * 4 < orders.count, "order events: \(orders.count) -> \(frame.count) bytes")
        let blocks = ZstdFrameWalker.blocks(frame)
        #expect(blocks.count == 3)
        #expect(blocks.allSatisfy { $0.type == 2 && $0.literalsType == 2 }, "\(blocks)")
        // At least one sequence stream uses a table of its own (mode 2) in some block.
        #expect(blocks.contains { block in
            guard let modes = block.modes else { return false }
            return modes >> 6 == 2 || (modes >> 4) & 3 == 2 || (modes >> 2) & 3 == 2
        }, "\(blocks)")

        let text = ZstdCorpus.text()
        let textFrame = try Self.roundTrip(text, "text")
        #expect(textFrame.count * 2 < text.count, "text: \(text.count) -> \(textFrame.count) bytes")

        // Literals above 128 need the FSE-compressed tree description.
        var rng = SeededRandom(seed: 23)
        let binary = (0..<50_000).map { _ in UInt8(128 + min(rng.next() % 128, rng.next() % 128)) }
        let binaryFrame = try Self.roundTrip(binary, "binary alphabet above 128")
        let binaryBlocks = ZstdFrameWalker.blocks(binaryFrame)
        #expect(binaryBlocks.allSatisfy { $0.type == 2 && $0.literalsType == 2 }, "\(binaryBlocks)")

        let records = ZstdCorpus.kafkaBenchRecords(count: 2000)
        let recordsFrame = try Self.roundTrip(records, "kafka-bench records")
        #expect(recordsFrame.count * 20 < records.count, "records: \(records.count) -> \(recordsFrame.count) bytes")
    }

    @Test("incompressible data is stored raw, one-byte blocks as RLE blocks")
    func fallbacks() throws {
        var rng = SeededRandom(seed: 22)
        let random = TestData.random(count: 300_000, using: &rng)
        let frame = try Self.roundTrip(random, "random")
        #expect(ZstdFrameWalker.blocks(frame).map(\.type) == [0, 0, 0])
        let mixed = [UInt8](repeating: 9, count: 131_072) + random.prefix(131_072) + Array("tail".utf8)
        let mixedFrame = try Self.roundTrip(mixed, "run, random, tail")
        #expect(ZstdFrameWalker.blocks(mixedFrame).map(\.type) == [1, 0, 0])
    }

    @Test("seeded random-structure inputs round-trip (seed printed on failure)")
    func fuzz() throws {
        let seed: UInt64 = 0x5EED_2575
        var rng = SeededRandom(seed: seed)
        for round in 0..<150 {
            let size = Int(rng.next() % 3000) + (rng.next() % 4 == 0 ? Int(rng.next() % 300_000) : 0)
            var input: [UInt8] = []
            input.reserveCapacity(size)
            let alphabet = Int(rng.next() % 255) + 1
            while input.count < size {
                switch rng.next() % 4 {
                case 0:
                    let start = input.isEmpty ? 0 : Int(rng.next() % UInt64(input.count))
                    let length = min(Int(rng.next() % 300), input.count - start, size - input.count)
                    input += input[start..<(start + length)]
                case 1:
                    input += [UInt8](repeating: UInt8(truncatingIfNeeded: rng.next()), count: min(Int(rng.next() % 100), size - input.count))
                default:
                    input.append(UInt8(rng.next() % UInt64(alphabet)))
                }
            }
            try Self.roundTrip(input, "seed \(seed) round \(round)")
        }
    }

    @Test("concurrent callers each get a correct frame (encoders are reused, never shared)")
    func concurrentCallers() async throws {
        let inputs = (0..<8).map { ZstdCorpus.orderEvents(size: 40_000 + $0 * 7000, seed: UInt64(30 + $0)) }
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for input in inputs {
                group.addTask {
                    for _ in 0..<4 {
                        let frame = try ZstdCodec().compress(input)
                        guard try ZstdCodec().decompress(frame, limit: input.count) == input else { return false }
                    }
                    return true
                }
            }
            for try await ok in group { #expect(ok) }
        }
    }

    @Test("appends to existing output and leaves it untouched")
    func appends() throws {
        let input = ZstdCorpus.orderEvents(size: 10_000, seed: 40)
        var output: [UInt8] = [1, 2, 3]
        try input.withUnsafeBytes { buffer in try ZstdCodec().compress(buffer, into: &output) }
        #expect(Array(output.prefix(3)) == [1, 2, 3])
        #expect(try ZstdCodec().decompress(Array(output.dropFirst(3)), limit: input.count) == input)
    }
}
