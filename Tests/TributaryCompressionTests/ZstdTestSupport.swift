import Foundation
import Testing
import TributaryTestSupport
@testable import TributaryCompression

/// Inputs and helpers shared by the zstd compressor tests.
enum ZstdCorpus {
    /// JSON order events, one per line, `size` bytes, with varying ids, customers, amounts,
    /// currencies, statuses and timestamps.
    static func orderEvents(size: Int, seed: UInt64) -> [UInt8] {
        var rng = SeededRandom(seed: seed)
        let statuses = ["created", "paid", "shipped", "delivered", "cancelled"]
        let currencies = ["EUR", "USD", "GBP", "CHF"]
        var out: [UInt8] = []
        out.reserveCapacity(size + 200)
        var id = 0
        var timestamp = 1_733_450_000_000
        func padded(_ value: UInt64, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        while out.count < size {
            timestamp += Int(rng.next() % 2000)
            let line = "{\"order_id\":\"ord-\(padded(UInt64(id), 6))\",\"customer\":\"c-\(rng.next() % 1000)\","
                + "\"amount\":\(rng.next() % 1000).\(padded(rng.next() % 100, 2)),\"currency\":\"\(currencies[Int(rng.next() % 4)])\","
                + "\"status\":\"\(statuses[Int(rng.next() % 5)])\",\"ts\":\(timestamp)}\n"
            out.append(contentsOf: line.utf8)
            id += 1
        }
        return Array(out.prefix(size))
    }

    /// The records section of a Kafka v2 record batch as `kafka-bench produce` fills it by
    /// default: `count` records with no key, a 100-byte value of "a" and no headers (length,
    /// attributes, timestamp delta, offset delta, key length -1, value length, value, header count).
    static func kafkaBenchRecords(count: Int) -> [UInt8] {
        func varint(_ value: Int, into out: inout [UInt8]) {
            var zigzag = UInt64(bitPattern: Int64((value << 1) ^ (value >> 63)))
            while zigzag >= 0x80 {
                out.append(UInt8(zigzag & 0x7F) | 0x80)
                zigzag >>= 7
            }
            out.append(UInt8(zigzag))
        }
        var out: [UInt8] = []
        for index in 0..<count {
            var body: [UInt8] = [0]
            varint(index / 50, into: &body)
            varint(index, into: &body)
            varint(-1, into: &body)
            varint(100, into: &body)
            body += [UInt8](repeating: 0x61, count: 100)
            varint(0, into: &body)
            varint(body.count, into: &out)
            out += body
        }
        return out
    }

    /// The project's Markdown documentation, concatenated (README first).
    static func text() -> [UInt8] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var out: [UInt8] = []
        for path in ["README.md", "ProtocolSpecs/README.md", "Tests/Fixtures/README.md"] {
            if let data = FileManager.default.contents(atPath: root.appendingPathComponent(path).path) {
                out += [UInt8](data)
            }
        }
        return out
    }

    /// `size` bytes where phrases recur at a few fixed distances, so the repeat offsets carry
    /// most matches (including matches right after matches, with no literals between).
    static func repeatedOffsets(size: Int, seed: UInt64) -> [UInt8] {
        var rng = SeededRandom(seed: seed)
        let phrases = (0..<3).map { _ in TestData.random(count: 24, using: &rng) }
        var out: [UInt8] = []
        while out.count < size {
            out += phrases[Int(rng.next() % 3)]
            out += TestData.random(count: Int(rng.next() % 3), using: &rng)
        }
        return Array(out.prefix(size))
    }

    /// Random letters from a 16-letter alphabet (short chance matches at every distance, and
    /// literals worth Huffman coding) with a 64-byte piece repeated at exactly `distance` bytes:
    /// with a 128 KiB window, distances at or past the window must not become matches.
    static func windowEdge(distance: Int, seed: UInt64) -> [UInt8] {
        var rng = SeededRandom(seed: seed)
        var out = TestData.random(count: distance + 64 + 1000, using: &rng).map { 0x61 + ($0 & 15) }
        let piece = Array(out[1000..<1064])
        out.replaceSubrange((1000 + distance)..<(1064 + distance), with: piece)
        return out
    }
}

/// Runs the reference `zstd` command line tool, a test-only reference (apt package `zstd`;
/// `Tools/test.sh` installs it). A missing tool is recorded as a failure, never skipped.
enum ZstdCLI {
    static var path: String? {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for directory in directories + ["/usr/bin", "/usr/local/bin"] {
            let candidate = "\(directory)/zstd"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs `zstd arguments... FILE` on `input` written to a temporary file; returns stdout.
    static func run(_ arguments: [String], input: [UInt8]) throws -> [UInt8] {
        guard let path else {
            let hint = ProcessInfo.processInfo.environment["CI"] == "true"
                ? "CI must install it (Tools/test.sh does)" : "install it with 'apt-get install zstd' or run Tools/test.sh"
            throw Failure(description: "the reference zstd CLI is not on PATH: \(hint)")
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tributary-zstd-\(UUID().uuidString)")
        try Data(input).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Subprocess()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments + [file.path]
        let output = SubprocessPipe()
        let errors = SubprocessPipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "zstd \(arguments.joined(separator: " ")) exited with \(process.terminationStatus): "
                + (String(decoding: message, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        return [UInt8](data)
    }
}

/// Walks a frame our compressor wrote (single frame, header as `ZstdEncoder` writes it) and
/// lists its blocks, so tests can see which block and literal types were chosen.
enum ZstdFrameWalker {
    struct Block: Equatable {
        /// 0 raw, 1 RLE, 2 compressed.
        var type: Int
        var size: Int
        /// For compressed blocks: the literals section type (0 raw, 1 RLE, 2 Huffman) and the
        /// sequence compression modes byte (nil without sequences).
        var literalsType: Int?
        var modes: UInt8?
    }

    static func blocks(_ frame: [UInt8]) -> [Block] {
        let descriptor = frame[4]
        let sizeField = [0, 2, 4, 8][Int(descriptor >> 6)]
        let singleSegment = descriptor & 0x20 != 0
        var ip = 5 + (singleSegment ? 0 : 1) + (singleSegment && sizeField == 0 ? 1 : sizeField)
        var blocks: [Block] = []
        while true {
            let header = Int(frame[ip]) | Int(frame[ip + 1]) << 8 | Int(frame[ip + 2]) << 16
            let type = (header >> 1) & 3
            let size = header >> 3
            ip += 3
            var block = Block(type: type, size: size)
            if type == 2 {
                let byte0 = Int(frame[ip])
                block.literalsType = byte0 & 3
                let literalsSize: Int
                switch byte0 & 3 {
                case 0, 1:
                    let headerSize = [1, 2, 1, 3][(byte0 >> 2) & 3]
                    var regenerated = 0
                    for index in 0..<headerSize { regenerated |= Int(frame[ip + index]) << (8 * index) }
                    regenerated >>= headerSize == 1 ? 3 : 4
                    literalsSize = headerSize + (byte0 & 3 == 0 ? regenerated : 1)
                default:
                    let headerSize = [3, 3, 4, 5][(byte0 >> 2) & 3]
                    let sizeBits = [10, 10, 14, 18][(byte0 >> 2) & 3]
                    var value = 0
                    for index in 0..<headerSize { value |= Int(frame[ip + index]) << (8 * index) }
                    literalsSize = headerSize + ((value >> (4 + sizeBits)) & ((1 << sizeBits) - 1))
                }
                var sp = ip + literalsSize
                let count = Int(frame[sp])
                sp += count < 128 ? 1 : (count < 255 ? 2 : 3)
                if count > 0 { block.modes = frame[sp] }
            }
            blocks.append(block)
            ip += type == 1 ? 1 : size
            if header & 1 != 0 { break }
        }
        return blocks
    }
}
