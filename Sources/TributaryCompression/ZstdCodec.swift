/// Zstandard (Kafka codec 4), implemented in Swift.
///
/// `decompress` is a complete RFC 8878 decoder except for dictionaries (frames that name one
/// are reported as `.unsupported`); see ``ZstdCodec/decompress(_:into:limit:)``.
///
/// `compress` writes valid zstd frames that any decoder reads, but **does not reduce size
/// yet**: each frame holds raw (stored) blocks, or RLE blocks for runs of one byte value, with
/// the content size and an xxHash64 content checksum. Prefer lz4 or snappy when producing
/// until a real zstd compressor lands.
public struct ZstdCodec: CompressionCodec {
    /// Creates the zstd codec.
    public init() {}

    /// Largest block the format allows, and the window our frames declare (2^17 bytes).
    private static let blockSize = 128 * 1024
    private static let windowDescriptor: UInt8 = (17 - 10) << 3

    /// Appends one zstd frame holding `input` in raw or RLE blocks (no size reduction). Does not throw.
    public func compress(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(CompressionError) {
        let count = input.count
        let blocks = max(1, (count + Self.blockSize - 1) / Self.blockSize)
        let bound = 4 + 14 + blocks * 3 + count + 4
        let start = appendZeroed(&output, bound)
        let written = withOutputBase(&output) { outputBase, _ in
            let dest = outputBase + start
            dest.setLE32(ZstdDecoder.frameMagic, at: 0)
            var op = 4
            // Frame header: checksum flag, and the content size in the smallest field that fits.
            // Under 256 bytes: single segment with a 1-byte size (the window is the content).
            // Otherwise a 128 KiB window, which every decoder accepts, and a 2/4/8-byte size.
            let checksumFlag: UInt8 = 0x04
            if count < 256 {
                dest.setByte(0x20 | checksumFlag, at: op)
                dest.setByte(UInt8(count), at: op + 1)
                op += 2
            } else if count < 65536 + 256 {
                dest.setByte(0x40 | checksumFlag, at: op)
                dest.setByte(Self.windowDescriptor, at: op + 1)
                dest.setLE16(UInt16(count - 256), at: op + 2)
                op += 4
            } else if count <= Int(UInt32.max) {
                dest.setByte(0x80 | checksumFlag, at: op)
                dest.setByte(Self.windowDescriptor, at: op + 1)
                dest.setLE32(UInt32(count), at: op + 2)
                op += 6
            } else {
                dest.setByte(0xC0 | checksumFlag, at: op)
                dest.setByte(Self.windowDescriptor, at: op + 1)
                dest.setLE64(UInt64(count), at: op + 2)
                op += 10
            }
            var consumed = 0
            repeat {
                let chunk = min(Self.blockSize, count - consumed)
                let last: Int = consumed + chunk == count ? 1 : 0
                if chunk > 0, let source = input.baseAddress, Self.isRun(source + consumed, count: chunk) {
                    let header = last | (1 << 1) | (chunk << 3)
                    dest.setByte(UInt8(truncatingIfNeeded: header), at: op)
                    dest.setLE16(UInt16(truncatingIfNeeded: header >> 8), at: op + 1)
                    dest.setByte(source.byte(consumed), at: op + 3)
                    op += 4
                } else {
                    let header = last | (chunk << 3)
                    dest.setByte(UInt8(truncatingIfNeeded: header), at: op)
                    dest.setLE16(UInt16(truncatingIfNeeded: header >> 8), at: op + 1)
                    op += 3
                    if let source = input.baseAddress, chunk > 0 {
                        (dest + op).copyMemory(from: source + consumed, byteCount: chunk)
                    }
                    op += chunk
                }
                consumed += chunk
            } while consumed < count
            let checksum = XXHash64.hash(input.baseAddress, count: count)
            dest.setLE32(UInt32(truncatingIfNeeded: checksum), at: op)
            return op + 4
        }
        output.removeLast(output.count - (start + written))
    }

    /// Whether all `count` (> 0) bytes equal the first one; short runs are stored raw.
    private static func isRun(_ source: UnsafeRawPointer, count: Int) -> Bool {
        guard count >= 32 else { return false }
        let pattern = UInt64(source.byte(0)) &* 0x0101_0101_0101_0101
        var index = 0
        while index + 8 <= count {
            if source.le64(index) != pattern { return false }
            index += 8
        }
        while index < count {
            if source.byte(index) != source.byte(0) { return false }
            index += 1
        }
        return true
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
