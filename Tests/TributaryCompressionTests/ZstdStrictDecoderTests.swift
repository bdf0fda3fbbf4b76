import Foundation
import Testing
import TributaryTestSupport
@testable import TributaryCompression

/// Frames that break one RFC 8878 rule the reference decoder enforces, each next to a control
/// frame that differs only in that rule: the control decodes (with our decoder and the zstd CLI),
/// the crafted frame is a typed `.corruptInput` error naming the rule.
@Suite("ZstdStrictDecoder")
struct ZstdStrictDecoderTests {
    // MARK: Frame building

    /// 100 bytes stored in a raw block before a small compressed block: a single-segment
    /// frame's window is its content size, and a block may not be larger than the window.
    static let prefix = (0..<100).map { UInt8(truncatingIfNeeded: $0 * 7) }

    static func blockHeader(type: Int, size: Int, last: Bool) -> [UInt8] {
        let value = (last ? 1 : 0) | type << 1 | size << 3
        return [UInt8(truncatingIfNeeded: value), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value >> 16)]
    }

    /// A frame without checksum: single segment (1-byte content size) when `windowLog` is nil,
    /// else that window and a 2-byte content size (content of 256...65791 bytes).
    static func frame(windowLog: Int?, contentSize: Int, blocks: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD]
        if let windowLog {
            out += [0x40, UInt8((windowLog - 10) << 3)]
            let stored = contentSize - 256
            out += [UInt8(stored & 0xFF), UInt8(stored >> 8)]
        } else {
            out += [0x20, UInt8(contentSize)]
        }
        for block in blocks { out += block }
        return out
    }

    static func rawBlock(_ bytes: [UInt8], last: Bool = false) -> [UInt8] {
        blockHeader(type: 0, size: bytes.count, last: last) + bytes
    }

    static func compressedBlock(_ content: [UInt8]) -> [UInt8] {
        blockHeader(type: 2, size: content.count, last: true) + content
    }

    /// Compressed literals header (type 2): size format 0 (1 stream) or 1 (4 streams), 10-bit sizes.
    static func huffmanLiteralsHeader(fourStreams: Bool, regenerated: Int, compressed: Int) -> [UInt8] {
        let value = 2 | (fourStreams ? 1 : 0) << 2 | regenerated << 4 | compressed << 14
        return [UInt8(truncatingIfNeeded: value), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value >> 16)]
    }

    /// The bytes a bit writer produced.
    static func bits(_ body: (inout ZstdBitWriter) -> Void) -> [UInt8] {
        var storage = [UInt8](repeating: 0, count: 64)
        let size = storage.withUnsafeMutableBytes { buffer -> Int in
            var writer = ZstdBitWriter(buffer.baseAddress.unsafelyUnwrapped, capacity: buffer.count)
            body(&writer)
            return writer.close() ?? 0
        }
        return Array(storage.prefix(size))
    }

    static func description(_ probabilities: [Int16], log: Int) -> [UInt8] {
        var storage = [UInt8](repeating: 0, count: 64)
        let size = probabilities.withUnsafeBufferPointer { probabilities in
            storage.withUnsafeMutableBytes { buffer in
                ZstdFSEEncoder.writeDescription(
                    probabilities.baseAddress.unsafelyUnwrapped, symbolCount: probabilities.count, log: log,
                    into: buffer.baseAddress.unsafelyUnwrapped, capacity: buffer.count) ?? 0
            }
        }
        return Array(storage.prefix(size))
    }

    /// Decodes `control` (ours and the CLI) to `expected`, and checks `crafted` fails naming `rule`.
    static func check(control: [UInt8], crafted: [UInt8], expected: [UInt8], rule: String) throws {
        #expect(try ZstdCodec().decompress(control, limit: 1 << 20) == expected, "control frame for: \(rule)")
        #expect(try ZstdCLI.run(["-d", "-c", "-q"], input: control) == expected, "zstd CLI on the control frame for: \(rule)")
        var output: [UInt8] = [9]
        do {
            try ZstdCodec().decompress(crafted, into: &output, limit: 1 << 20)
            Issue.record("a frame breaking '\(rule)' was accepted")
        } catch {
            #expect(error.code == .corruptInput, "\(error)")
            #expect(error.message.contains(rule), "\(error.message) should name '\(rule)'")
            #expect(output == [9], "the output is restored after the error")
        }
    }

    // MARK: Rules

    @Test("a match offset beyond the window is rejected, even with the data decoded (RFC 8878 §3.1.1.4)")
    func offsetBeyondWindow() throws {
        var rng = SeededRandom(seed: 0x3110)
        let first = TestData.random(count: 1000, using: &rng)
        let second = TestData.random(count: 1000, using: &rng)
        // One sequence: no literals, offset 1500 (offset value 1503), 10 bytes.
        let encoder = ZstdEncoder()
        encoder.literalLengths[0] = 0
        encoder.offsetValues[0] = 1503
        encoder.matchLengths[0] = 10
        let sequencesSize = try #require(encoder.writeSequences(count: 1, into: encoder.blockOutput, capacity: 100))
        let sequences = Array(UnsafeRawBufferPointer(start: encoder.blockOutput, count: sequencesSize))
        let blocks = [Self.rawBlock(first), Self.rawBlock(second), Self.compressedBlock([0x00] + sequences)]
        let content = first + second
        let expected = content + content[500..<510]
        try Self.check(
            control: Self.frame(windowLog: 11, contentSize: expected.count, blocks: blocks),
            crafted: Self.frame(windowLog: 10, contentSize: expected.count, blocks: blocks),
            expected: expected, rule: "window")
    }

    @Test("an offset of exactly the window size decodes, as the reference encoder may write one")
    func offsetAtWindow() throws {
        var rng = SeededRandom(seed: 0x3111)
        let first = TestData.random(count: 1000, using: &rng)
        let second = TestData.random(count: 1000, using: &rng)
        let encoder = ZstdEncoder()
        encoder.literalLengths[0] = 0
        encoder.offsetValues[0] = 1024 + 3
        encoder.matchLengths[0] = 10
        let sequencesSize = try #require(encoder.writeSequences(count: 1, into: encoder.blockOutput, capacity: 100))
        let sequences = Array(UnsafeRawBufferPointer(start: encoder.blockOutput, count: sequencesSize))
        let content = first + second
        let expected = content + content[976..<986]
        let frame = Self.frame(windowLog: 10, contentSize: expected.count, blocks: [
            Self.rawBlock(first), Self.rawBlock(second), Self.compressedBlock([0x00] + sequences),
        ])
        #expect(try ZstdCodec().decompress(frame, limit: 1 << 20) == expected)
        #expect(try ZstdCLI.run(["-d", "-c", "-q"], input: frame) == expected)
    }

    @Test("a Huffman tree without a weight-1 symbol is rejected (RFC 8878 §4.2.1)")
    func huffmanWithoutWeightOne() throws {
        // Symbols 0 and 1; eight literals of symbol 0 as 1-bit codes: eight 0 bits, then the end mark.
        func frame(weightByte: UInt8) -> [UInt8] {
            let literals = Self.huffmanLiteralsHeader(fourStreams: false, regenerated: 8, compressed: 4) + [128, weightByte, 0x00, 0x01]
            return Self.frame(windowLog: nil, contentSize: 8, blocks: [Self.compressedBlock(literals + [0x00])])
        }
        // Weights 1 and (implied) 1 are a valid 1-bit tree; weights 2 and 2 describe the same
        // codes with a depth of 2 and no weight 1.
        try Self.check(control: frame(weightByte: 0x10), crafted: frame(weightByte: 0x20), expected: [UInt8](repeating: 0, count: 8), rule: "weight is 1")
    }

    @Test("4-stream literals with fewer than 6 literals are rejected (RFC 8878 §3.1.1.3.1.1)")
    func fourStreamsTooFewLiterals() throws {
        func frame(literalCount: Int) -> [UInt8] {
            // Tree: symbols 0 and 1, 1-bit codes. Each stream holds literalCount / 4 zero bits.
            let stream: UInt8 = UInt8(1 << (literalCount / 4))
            let compressed = 2 + 6 + 4
            let literals = Self.huffmanLiteralsHeader(fourStreams: true, regenerated: literalCount, compressed: compressed)
                + [128, 0x10] + [1, 0, 1, 0, 1, 0] + [stream, stream, stream, stream]
            // A raw block first, so the window (the content size) exceeds the compressed block.
            return Self.frame(windowLog: nil, contentSize: 100 + literalCount, blocks: [
                Self.rawBlock(Self.prefix), Self.compressedBlock(literals + [0x00]),
            ])
        }
        try Self.check(
            control: frame(literalCount: 8), crafted: frame(literalCount: 4),
            expected: Self.prefix + [UInt8](repeating: 0, count: 8), rule: "at least 6")
    }

    @Test("FSE-compressed Huffman weights whose stream cannot hold both initial states are rejected (RFC 8878 §4.2.1.2)")
    func huffmanWeightsTruncatedStates() throws {
        // Weights of symbols 0 and 1 are 1 (FSE table over weights 1 and 2, accuracy log 5); the
        // last symbol, 2, gets weight 2, a 1-bit code: eight literals of symbol 2 are eight 1 bits.
        let probabilities: [Int16] = [0, 16, 16]
        let table = probabilities.withUnsafeBufferPointer { ZstdFSEEncodingTable($0, accuracyLog: 5) }
        let description = Self.description(probabilities, log: 5)
        #expect(!description.isEmpty)
        let validStates = Self.bits { writer in
            table.finish(table.initialState(1), &writer)  // state 2, read second
            table.finish(table.initialState(1), &writer)  // state 1, read first
        }
        func frame(weightStream: [UInt8]) -> [UInt8] {
            let tree = [UInt8(description.count + weightStream.count)] + description + weightStream
            let stream: [UInt8] = [0xFF, 0x01]
            let literals = Self.huffmanLiteralsHeader(fourStreams: false, regenerated: 8, compressed: tree.count + stream.count) + tree + stream
            return Self.frame(windowLog: nil, contentSize: 108, blocks: [Self.rawBlock(Self.prefix), Self.compressedBlock(literals + [0x00])])
        }
        // The crafted stream is only the end mark: reading two 5-bit states runs past its start.
        try Self.check(
            control: frame(weightStream: validStates), crafted: frame(weightStream: [0x01]),
            expected: Self.prefix + [UInt8](repeating: 2, count: 8), rule: "initial states")
    }

    @Test("an FSE table description with a single symbol is rejected (RFC 8878 §4.1.1)")
    func singleSymbolDistribution() throws {
        let text = Array("abcdefgh".utf8)
        // One sequence: no literals, offset 8 (offset value 11: code 3, extra bits 3), 4 bytes (code 1).
        let singleTable = [Int16(32)].withUnsafeBufferPointer { ZstdFSEEncodingTable($0, accuracyLog: 5) }
        func sequences(literalLengthTable: Bool) -> [UInt8] {
            let stream = Self.bits { writer in
                writer.flush()
                writer.add(3, 3)
                writer.flush()
                ZstdEncoder.predefinedMatchLength.finish(ZstdEncoder.predefinedMatchLength.initialState(1), &writer)
                ZstdEncoder.predefinedOffset.finish(ZstdEncoder.predefinedOffset.initialState(3), &writer)
                if literalLengthTable { singleTable.finish(singleTable.initialState(0), &writer) }
                writer.flush()
            }
            // Literal lengths: FSE mode with a one-symbol table, or RLE mode of code 0.
            let table = literalLengthTable ? [0x80] + Self.description([32], log: 5) : [0x40, 0x00]
            return [0x01] + table + stream
        }
        func frame(literalLengthTable: Bool) -> [UInt8] {
            Self.frame(windowLog: nil, contentSize: 12, blocks: [
                Self.rawBlock(text), Self.compressedBlock([0x00] + sequences(literalLengthTable: literalLengthTable)),
            ])
        }
        try Self.check(
            control: frame(literalLengthTable: false), crafted: frame(literalLengthTable: true),
            expected: text + text.prefix(4), rule: "single symbol")
    }
}
