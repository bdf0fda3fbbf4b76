/// LZ4 (Kafka codec 3) in the LZ4 frame format, implemented in Swift.
///
/// `compress` writes what Kafka's Java client writes: one frame with 64 KiB independent
/// blocks, no block or content checksums and no content size, with a correct header
/// checksum; incompressible blocks are stored uncompressed.
///
/// `decompress` reads any LZ4 frame (lz4 `doc/lz4_Frame_Format.md`): block sizes 64 KiB to
/// 4 MiB, independent or linked blocks, block and content checksums (verified), a content
/// size (checked), several concatenated frames and skippable frames. Kafka brokers before
/// 0.10 computed the header checksum over the magic number too (KIP-57); that legacy checksum
/// is accepted as well. Frames that need a dictionary and the legacy `0x184C2102` format are
/// reported as `.unsupported`.
public struct LZ4Codec: CompressionCodec {
    /// Creates the LZ4 codec.
    public init() {}

    static let frameMagic: UInt32 = 0x184D_2204
    static let legacyFrameMagic: UInt32 = 0x184C_2102
    /// Version 01, independent blocks; no checksums, no content size, no dictionary.
    static let writtenFLG: UInt8 = 0x60
    /// Block maximum size code 4: 64 KiB.
    static let writtenBD: UInt8 = 0x40
    static let writtenBlockSize = 64 * 1024
    private static let uncompressedFlag: UInt32 = 0x8000_0000

    /// Appends one LZ4 frame holding `input`. Does not throw.
    public func compress(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(CompressionError) {
        let blockSize = Self.writtenBlockSize
        let blocks = (input.count + blockSize - 1) / blockSize
        let bound = 7 + blocks * (4 + LZ4Block.maxCompressedLength(blockSize)) + 4
        let start = appendZeroed(&output, bound)
        let written = withUnsafeTemporaryAllocation(of: Int32.self, capacity: 1 << LZ4Block.hashBits) { table in
            withOutputBase(&output) { outputBase, _ in
                let dest = outputBase + start
                dest.setLE32(Self.frameMagic, at: 0)
                dest.setByte(Self.writtenFLG, at: 4)
                dest.setByte(Self.writtenBD, at: 5)
                dest.setByte(UInt8(truncatingIfNeeded: XXHash32.hash(UnsafeRawPointer(dest + 4), count: 2) >> 8), at: 6)
                var op = 7
                var consumed = 0
                while consumed < input.count, let source = input.baseAddress, let table = table.baseAddress {
                    let chunk = min(blockSize, input.count - consumed)
                    let size = LZ4Block.compress(source + consumed, count: chunk, into: dest + op + 4, table: table)
                    if size < chunk {
                        dest.setLE32(UInt32(size), at: op)
                        op += 4 + size
                    } else {
                        dest.setLE32(UInt32(chunk) | Self.uncompressedFlag, at: op)
                        (dest + op + 4).copyMemory(from: source + consumed, byteCount: chunk)
                        op += 4 + chunk
                    }
                    consumed += chunk
                }
                dest.setLE32(0, at: op)  // EndMark
                return op + 4
            }
        }
        output.removeLast(output.count - (start + written))
    }

    /// Appends the contents of the LZ4 frame(s) in `input`, at most `limit` bytes.
    public func decompress(_ input: UnsafeRawBufferPointer, into output: inout [UInt8], limit: Int) throws(CompressionError) {
        var out = BoundedOutput(count: output.count, limit: limit)
        do throws(CompressionError) {
            guard let base = input.baseAddress, input.count > 0 else {
                throw CompressionError.truncated(.lz4, "empty input: an LZ4 frame needs at least 7 bytes", at: 0)
            }
            var ip = 0
            var frames = 0
            while ip < input.count {
                guard input.count - ip >= 4 else { throw CompressionError.truncated(.lz4, "a frame magic number is cut off", at: ip) }
                let magic = base.le32(ip)
                if magic & 0xFFFF_FFF0 == 0x184D_2A50 {
                    guard input.count - ip >= 8 else { throw CompressionError.truncated(.lz4, "a skippable frame header is cut off", at: ip) }
                    let size = Int(base.le32(ip + 4))
                    guard size <= input.count - ip - 8 else {
                        throw CompressionError.truncated(.lz4, "a skippable frame of \(size) bytes runs past the end", at: ip)
                    }
                    ip += 8 + size
                    continue
                }
                if magic == Self.legacyFrameMagic {
                    throw CompressionError.unsupported(.lz4, "the legacy LZ4 frame format (magic 0x184C2102)", at: ip)
                }
                guard magic == Self.frameMagic else {
                    let what = frames == 0 ? "not an LZ4 frame" : "bytes after the last LZ4 frame are not a frame"
                    throw CompressionError.corrupt(.lz4, "\(what) (magic 0x\(String(magic, radix: 16)))", at: ip)
                }
                ip = try Self.decodeFrame(base, count: input.count, at: ip, output: &output, out: &out)
                frames += 1
            }
        } catch {
            out.abandon(&output)
            throw error
        }
        out.finish(&output)
    }

    private static func decodeFrame(
        _ base: UnsafeRawPointer, count n: Int, at frameStart: Int, output: inout [UInt8], out: inout BoundedOutput
    ) throws(CompressionError) -> Int {
        let descriptorStart = frameStart + 4
        guard n - descriptorStart >= 3 else { throw .truncated(.lz4, "the frame descriptor is cut off", at: descriptorStart) }
        let flg = base.byte(descriptorStart)
        let bd = base.byte(descriptorStart + 1)
        guard flg >> 6 == 1 else { throw .corrupt(.lz4, "frame version \(flg >> 6) is not 1", at: descriptorStart) }
        guard flg & 0x02 == 0, bd & 0x8F == 0 else {
            throw .corrupt(.lz4, "reserved bits are set in the frame descriptor", at: descriptorStart)
        }
        let independent = flg & 0x20 != 0
        let blockChecksum = flg & 0x10 != 0
        let hasContentSize = flg & 0x08 != 0
        let contentChecksum = flg & 0x04 != 0
        let hasDictionary = flg & 0x01 != 0
        let sizeCode = Int(bd >> 4) & 7
        guard sizeCode >= 4 else { throw .corrupt(.lz4, "block size code \(sizeCode) is not 4...7", at: descriptorStart + 1) }
        let blockMax = 1 << (2 * sizeCode + 8)
        let descriptorLength = 2 + (hasContentSize ? 8 : 0) + (hasDictionary ? 4 : 0)
        guard n - descriptorStart >= descriptorLength + 1 else {
            throw .truncated(.lz4, "the frame descriptor is cut off", at: descriptorStart)
        }
        let checksum = base.byte(descriptorStart + descriptorLength)
        let correct = UInt8(truncatingIfNeeded: XXHash32.hash(base + descriptorStart, count: descriptorLength) >> 8)
        if checksum != correct {
            // KIP-57: Kafka before 0.10 hashed the magic number too; accept that legacy checksum.
            let legacy = UInt8(truncatingIfNeeded: XXHash32.hash(base + frameStart, count: 4 + descriptorLength) >> 8)
            guard checksum == legacy else {
                throw .corrupt(.lz4, "frame descriptor checksum mismatch", at: descriptorStart + descriptorLength)
            }
        }
        if hasDictionary {
            throw .unsupported(.lz4, "the frame needs dictionary \(base.le32(descriptorStart + descriptorLength - 4))", at: descriptorStart)
        }
        var contentSize: UInt64?
        if hasContentSize {
            let size = base.le64(descriptorStart + 2)
            guard size <= UInt64(out.remainingLimit) else { throw .limitExceeded(.lz4, limit: out.limit, at: descriptorStart + 2) }
            contentSize = size
        }
        var ip = descriptorStart + descriptorLength + 1
        let frameOutStart = out.end
        while true {
            guard n - ip >= 4 else { throw .truncated(.lz4, "a block header is cut off", at: ip) }
            let word = base.le32(ip)
            ip += 4
            if word == 0 { break }  // EndMark
            let stored = word & uncompressedFlag != 0
            let size = Int(word & ~uncompressedFlag)
            guard size <= blockMax else {
                throw .corrupt(.lz4, "a block of \(size) bytes is larger than the frame's \(blockMax)-byte maximum", at: ip - 4)
            }
            guard n - ip >= size + (blockChecksum ? 4 : 0) else {
                throw .truncated(.lz4, "a block of \(size) bytes runs past the end of the input", at: ip)
            }
            if blockChecksum && XXHash32.hash(base + ip, count: size) != base.le32(ip + size) {
                throw .corrupt(.lz4, "block checksum mismatch", at: ip + size)
            }
            if stored {
                guard size <= out.remainingLimit else { throw .limitExceeded(.lz4, limit: out.limit, at: ip) }
                let at = out.end
                out.reserve(&output, size)
                withOutputBase(&output) { outputBase, _ in
                    (outputBase + at).copyMemory(from: base + ip, byteCount: size)
                }
                out.end += size
            } else {
                // A block never decodes past blockMax, and no LZ4 block expands more than 255:1
                // (each extra length byte adds 255), so reserve no more than that.
                let plausible = min(blockMax, size * 256 + 64)
                let hardEnd = out.end + plausible
                let writeEnd = min(hardEnd, out.limitEnd)
                let overflow: CompressionError = hardEnd > out.limitEnd
                    ? .limitExceeded(.lz4, limit: out.limit, at: ip)
                    : .corrupt(.lz4, "a block decodes to more than the frame's \(blockMax)-byte maximum", at: ip)
                let at = out.end
                let window = independent ? at : frameOutStart
                out.reserve(&output, plausible)
                let result = withOutputBase(&output) { outputBase, bufferEnd in
                    LZ4Block.decompress(
                        base + ip, count: size, inputOffset: ip, into: outputBase, at: at,
                        writeEnd: writeEnd, bufferEnd: bufferEnd, windowStart: window, overflowError: overflow)
                }
                switch result {
                case .success(let end): out.end = end
                case .failure(let error): throw error
                }
            }
            ip += size + (blockChecksum ? 4 : 0)
        }
        if contentChecksum {
            guard n - ip >= 4 else { throw .truncated(.lz4, "the content checksum is cut off", at: ip) }
            let expected = base.le32(ip)
            let actual = output.withUnsafeBufferPointer { buffer in
                XXHash32.hash(UnsafeRawPointer(buffer.baseAddress.map { $0 + frameOutStart }), count: out.end - frameOutStart)
            }
            guard expected == actual else { throw .corrupt(.lz4, "content checksum mismatch", at: ip) }
            ip += 4
        }
        if let contentSize, UInt64(out.end - frameOutStart) != contentSize {
            throw .corrupt(.lz4, "the frame declares \(contentSize) bytes but holds \(out.end - frameOutStart)", at: frameStart)
        }
        return ip
    }
}
