/// Zstandard (Kafka codec 4), implemented in Swift.
///
/// `decompress` is a complete RFC 8878 decoder except for dictionaries (frames that name one
/// are reported as `.unsupported`); see ``ZstdCodec/decompress(_:into:limit:)``.
///
/// `compress` writes one frame per call: a greedy LZ77 parse (hash table of 5-byte sequences,
/// repeat offsets, 128 KiB window) into compressed blocks with Huffman-coded literals and
/// FSE-coded sequences, or raw/RLE blocks when those are smaller, with the content size and an
/// xxHash64 content checksum. On JSON records and text its output is within about 1.1x of
/// `zstd -1`'s. The work buffers (about 1 MiB) are kept for reuse by later calls.
public struct ZstdCodec: CompressionCodec {
    /// Creates the zstd codec.
    public init() {}

    /// Appends one zstd frame holding `input`. Does not throw.
    ///
    /// The frame declares a 128 KiB window, the content size and an xxHash64 content checksum.
    /// Each 128 KiB block is compressed (Huffman literals, FSE sequences) when that makes it
    /// smaller, stored as an RLE block when it is one repeated byte, and stored raw otherwise,
    /// so the frame is never more than a few bytes per block larger than the input.
    public func compress(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(CompressionError) {
        let count = input.count
        let start = appendZeroed(&output, ZstdEncoder.frameBound(count))
        let written = withOutputBase(&output) { outputBase, _ in
            ZstdEncoder.withEncoder { encoder in
                encoder.compressFrame(input.baseAddress, count: count, into: outputBase + start)
            }
        }
        output.removeLast(output.count - (start + written))
    }

    /// Appends the contents of the zstd frame(s) in `input`, at most `limit` bytes.
    ///
    /// Reads every frame RFC 8878 defines without a dictionary: raw, RLE and compressed blocks;
    /// raw, RLE, Huffman (1 or 4 streams) and treeless literals; predefined, RLE, FSE and repeat
    /// sequence tables; repeat offsets; several concatenated frames and skippable frames. The
    /// content size, when declared, must match, and the content checksum, when present, is verified.
    public func decompress(_ input: UnsafeRawBufferPointer, into output: inout [UInt8], limit: Int) throws(CompressionError) {
        var out = BoundedOutput(count: output.count, limit: limit)
        var decoder = ZstdDecoder()
        defer { decoder.release() }
        do throws(CompressionError) {
            try decoder.decode(input, output: &output, out: &out)
        } catch {
            out.abandon(&output)
            throw error
        }
        out.finish(&output)
    }
}
