import Foundation
import Testing
import TributaryCompression

/// Loads the known-answer vectors under `Tests/Fixtures/compression` (see its README.md for
/// provenance). Found relative to this file, so tests run from any working directory.
enum CompressionFixtures {
    struct Vector: Decodable, Sendable {
        /// Name of the input in `inputs.json`.
        let input: String
        /// How the reference library was configured.
        let settings: String
        /// The reference library's output, hex.
        let compressed: String
    }

    struct CodecFile: Decodable, Sendable {
        let library: String
        let vectors: [Vector]
    }

    struct HashVector: Decodable, Sendable {
        let input: String
        let seed: UInt64
        let xxh32: UInt32
        let xxh64: UInt64
    }

    struct HashFile: Decodable, Sendable {
        let library: String
        let vectors: [HashVector]
    }

    private struct InputsFile: Decodable {
        let inputs: [String: String]
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// `Tests/Fixtures/compression`, searched upward from this source file.
    static func directory(from file: String = #filePath) throws -> URL {
        var url = URL(fileURLWithPath: file).deletingLastPathComponent()
        while url.path != "/" {
            let candidate = url.appendingPathComponent("Fixtures/compression")
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("inputs.json").path) {
                return candidate
            }
            let nested = url.appendingPathComponent("Tests/Fixtures/compression")
            if FileManager.default.fileExists(atPath: nested.appendingPathComponent("inputs.json").path) {
                return nested
            }
            url.deleteLastPathComponent()
        }
        throw Failure(description: "Tests/Fixtures/compression not found above \(file)")
    }

    static func codecFile(_ name: String) throws -> CodecFile {
        let data = try Data(contentsOf: try directory().appendingPathComponent(name))
        return try JSONDecoder().decode(CodecFile.self, from: data)
    }

    static func hashFile() throws -> HashFile {
        let data = try Data(contentsOf: try directory().appendingPathComponent("xxhash.json"))
        return try JSONDecoder().decode(HashFile.self, from: data)
    }

    /// All inputs, decoded from hex.
    static func inputs() throws -> [String: [UInt8]] {
        let data = try Data(contentsOf: try directory().appendingPathComponent("inputs.json"))
        let file = try JSONDecoder().decode(InputsFile.self, from: data)
        var result: [String: [UInt8]] = [:]
        for (name, hex) in file.inputs { result[name] = try bytes(hex: hex) }
        return result
    }

    static func bytes(hex: String) throws -> [UInt8] {
        let utf8 = Array(hex.utf8)
        guard utf8.count % 2 == 0 else { throw Failure(description: "odd-length hex") }
        var result = [UInt8](repeating: 0, count: utf8.count / 2)
        func nibble(_ c: UInt8) throws -> UInt8 {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            default: throw Failure(description: "bad hex digit \(c)")
            }
        }
        for index in 0..<result.count {
            result[index] = try nibble(utf8[2 * index]) << 4 | nibble(utf8[2 * index + 1])
        }
        return result
    }
}

extension CompressionFixtures {
    /// Decodes every vector in `file` with `codec` and checks the output against its input.
    static func checkKnownAnswers(
        file: String, codec: some CompressionCodec, minimumVectors: Int, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let fixtures = try codecFile(file)
        let inputs = try inputs()
        #expect(fixtures.vectors.count >= minimumVectors, sourceLocation: sourceLocation)
        for vector in fixtures.vectors {
            let expected = try #require(inputs[vector.input], "unknown input \(vector.input)", sourceLocation: sourceLocation)
            let compressed = try bytes(hex: vector.compressed)
            do throws(CompressionError) {
                let decoded = try codec.decompress(compressed, limit: expected.count)
                #expect(decoded == expected, "\(file): \(vector.input), \(vector.settings): decoded bytes differ",
                        sourceLocation: sourceLocation)
            } catch {
                Issue.record("\(file): \(vector.input), \(vector.settings): \(error)", sourceLocation: sourceLocation)
            }
        }
    }

    /// One reference vector's compressed bytes.
    static func reference(_ file: String, input: String, settings: String) throws -> [UInt8] {
        let vector = try #require(try codecFile(file).vectors.first { $0.input == input && $0.settings == settings })
        return try bytes(hex: vector.compressed)
    }
}
