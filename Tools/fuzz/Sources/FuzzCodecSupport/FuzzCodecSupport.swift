import FuzzSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TributaryCompression

/// The decompressor checks every codec target runs.
///
/// Input: [limit selector][compressed bytes...]. The decoder must:
/// - never append more than the limit, and leave what was already in the output untouched;
/// - leave the output as it was when it throws;
/// - refuse, with `.outputLimitExceeded`, the same input under a limit one byte smaller than what it produced;
/// - give back, for anything it decodes, the same bytes after compress → decompress;
/// and compressing the raw input must decompress to the input.
public func checkCodec(_ codec: any CompressionCodec, input: [UInt8]) {
    var fuzzInput = FuzzInput(input)
    let selector = fuzzInput.byte()
    let limit = [1 << 20, 0, 1, 64, 256, 4096, 65_536, 1 << 16 + 1][Int(selector & 7)]
    let compressed = fuzzInput.rest
    let sentinel: [UInt8] = [0xDE, 0xAD]

    var output = sentinel
    let outcome: CompressionError?
    do throws(CompressionError) {
        try compressed.withUnsafeBufferPointer { (buffer) throws(CompressionError) in
            try codec.decompress(UnsafeRawBufferPointer(buffer), into: &output, limit: limit)
        }
        outcome = nil
    } catch {
        outcome = error
    }
    fuzzCheck(output.starts(with: sentinel), "\(codec) changed bytes already in the output")
    if let outcome {
        fuzzCheck(output == sentinel, "\(codec) threw \(outcome) but left \(output.count - sentinel.count) bytes in the output")
    } else {
        let produced = Array(output.dropFirst(sentinel.count))
        fuzzCheck(produced.count <= limit, "\(codec) produced \(produced.count) bytes past its \(limit)-byte limit")
        if !produced.isEmpty {
            do throws(CompressionError) {
                _ = try codec.decompress(compressed, limit: produced.count - 1)
                fuzzCheck(false, "\(codec) produced \(produced.count) bytes under a limit of \(produced.count - 1)")
            } catch {
                fuzzCheck(error.code == .outputLimitExceeded, "\(codec) under a limit one byte short threw \(error), not outputLimitExceeded")
            }
        }
        roundTrip(codec, produced, what: "decoded output")
    }
    roundTrip(codec, compressed, what: "raw input")
}

func roundTrip(_ codec: any CompressionCodec, _ bytes: [UInt8], what: String) {
    let compressed: [UInt8]
    do {
        compressed = try codec.compress(bytes)
    } catch {
        fuzzCheck(false, "\(codec) cannot compress \(bytes.count) bytes of \(what): \(error)")
        return
    }
    do {
        let back = try codec.decompress(compressed, limit: bytes.count)
        fuzzCheck(sameBytes(back, bytes), "\(codec): compress → decompress of \(bytes.count) bytes of \(what) gives \(back.count) different bytes")
    } catch {
        fuzzCheck(false, "\(codec) cannot decompress its own compression of \(bytes.count) bytes of \(what): \(error)")
    }
}

/// Byte equality through one `memcmp`: `==` on arrays compares element by element, and under the
/// fuzzer's comparison tracing that cost more than the codec itself for megabyte outputs.
func sameBytes(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    return a.withUnsafeBytes { x in b.withUnsafeBytes { y in x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 } }
}

/// Seeds for a codec target: the codec's compression of sample inputs, each behind a limit selector.
public func codecSeeds(_ codec: any CompressionCodec) -> [[UInt8]] {
    let samples: [[UInt8]] = [
        [], Array("a".utf8), Array("hello hello hello hello hello".utf8),
        Array(repeating: 0x61, count: 1000), (0..<2048).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 3) },
    ]
    return samples.compactMap { sample in (try? codec.compress(sample)).map { [0] + $0 } }
}
