/// A Zstandard decoder written from RFC 8878: frames (several, plus skippable frames), raw,
/// RLE and compressed blocks, Huffman literals (1 or 4 streams, with or without a new tree),
/// FSE sequence tables (predefined, RLE, compressed and repeat modes), repeat offsets,
/// content size and content checksum checks. Dictionaries are not supported.
///
/// Everything read from the input is checked before use; the decoder allocates only the
/// caller's output (bounded by the limit) and one workspace of tables and a literals buffer
/// no larger than a block.
struct ZstdDecoder {
    static let frameMagic: UInt32 = 0xFD2F_B528
    static let maxBlockSize = 128 * 1024

    // Workspace layout: one allocation, made at the first compressed block.
    private static let literalLengthTableSize = 512
    private static let offsetTableSize = 256
    private static let matchLengthTableSize = 512
    static let literalSlack = 32

    private var memory: UnsafeMutableRawPointer?
    private(set) var literalCapacity = 0
    var literalLengthTable: UnsafeMutablePointer<SequenceEntry>
    var offsetTable: UnsafeMutablePointer<SequenceEntry>
    var matchLengthTable: UnsafeMutablePointer<SequenceEntry>
    var fseScratch: UnsafeMutablePointer<FSEEntry>
    var huffmanTable: UnsafeMutablePointer<UInt16>
    var probabilities: UnsafeMutablePointer<Int16>
    var symbolNext: UnsafeMutablePointer<UInt16>
    var weights: UnsafeMutablePointer<UInt8>
    var literals: UnsafeMutablePointer<UInt8>

    // Per-frame state carried between blocks.
    /// Bits of the current Huffman table; 0 when the frame has none yet.
    var huffmanBits = 0
    var literalLengthLog = -1
    var offsetLog = -1
    var matchLengthLog = -1
    var repeatOffsets = (1, 4, 8)

    /// Creates a decoder without a workspace. The table pointers point nowhere until the first
    /// compressed block calls `prepareWorkspace`; nothing reads them before that.
    init() {
        let dummy = UnsafeMutableRawPointer(bitPattern: 16).unsafelyUnwrapped
        literalLengthTable = dummy.assumingMemoryBound(to: SequenceEntry.self)
        offsetTable = literalLengthTable
        matchLengthTable = literalLengthTable
        fseScratch = dummy.assumingMemoryBound(to: FSEEntry.self)
        huffmanTable = dummy.assumingMemoryBound(to: UInt16.self)
        probabilities = dummy.assumingMemoryBound(to: Int16.self)
        symbolNext = huffmanTable
        weights = dummy.assumingMemoryBound(to: UInt8.self)
        literals = weights
    }

    /// Frees the workspace.
    mutating func release() {
        memory?.deallocate()
        memory = nil
        literalCapacity = 0
    }

    /// Makes sure the workspace exists with room for `capacity` literals.
    private mutating func prepareWorkspace(literalCapacity capacity: Int) {
        if memory != nil && literalCapacity >= capacity { return }
        release()
        let entry = MemoryLayout<SequenceEntry>.stride
        var offset = 0
        func take(_ bytes: Int) -> Int {
            let start = offset
            offset += (bytes + 15) & ~15
            return start
        }
        let literalLengthAt = take(Self.literalLengthTableSize * entry)
        let offsetAt = take(Self.offsetTableSize * entry)
        let matchLengthAt = take(Self.matchLengthTableSize * entry)
        let fseAt = take(512 * MemoryLayout<FSEEntry>.stride)
        let huffmanAt = take(2048 * 2)
        let probabilitiesAt = take(256 * 2)
        let nextAt = take(256 * 2)
        let weightsAt = take(256)
        let literalsAt = take(capacity + Self.literalSlack)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: offset, alignment: 16)
        // Zeroed so that table slack and the literal buffer's tail hold defined bytes.
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: offset)
        memory = raw
        literalCapacity = capacity
        literalLengthTable = (raw + literalLengthAt).bindMemory(to: SequenceEntry.self, capacity: Self.literalLengthTableSize)
        offsetTable = (raw + offsetAt).bindMemory(to: SequenceEntry.self, capacity: Self.offsetTableSize)
        matchLengthTable = (raw + matchLengthAt).bindMemory(to: SequenceEntry.self, capacity: Self.matchLengthTableSize)
        fseScratch = (raw + fseAt).bindMemory(to: FSEEntry.self, capacity: 512)
        huffmanTable = (raw + huffmanAt).bindMemory(to: UInt16.self, capacity: 2048)
        probabilities = (raw + probabilitiesAt).bindMemory(to: Int16.self, capacity: 256)
        symbolNext = (raw + nextAt).bindMemory(to: UInt16.self, capacity: 256)
        weights = (raw + weightsAt).bindMemory(to: UInt8.self, capacity: 256)
        literals = (raw + literalsAt).bindMemory(to: UInt8.self, capacity: capacity + Self.literalSlack)
    }

    /// Decodes every frame in `input`, appending to `output` through `out`.
    mutating func decode(_ input: UnsafeRawBufferPointer, output: inout [UInt8], out: inout BoundedOutput) throws(CompressionError) {
        guard let base = input.baseAddress, input.count > 0 else {
            throw .truncated(.zstd, "empty input: a zstd frame needs at least 6 bytes", at: 0)
        }
        let n = input.count
        var ip = 0
        var frames = 0
        while ip < n {
            guard n - ip >= 4 else { throw .truncated(.zstd, "a frame magic number is cut off", at: ip) }
            let magic = base.le32(ip)
            if magic & 0xFFFF_FFF0 == 0x184D_2A50 {
                // Skippable frame (RFC 8878 §3.1.2): magic, 4-byte size, user data.
                guard n - ip >= 8 else { throw .truncated(.zstd, "a skippable frame header is cut off", at: ip) }
                let size = Int(base.le32(ip + 4))
                guard size <= n - ip - 8 else {
                    throw .truncated(.zstd, "a skippable frame of \(size) bytes runs past the end", at: ip)
                }
                ip += 8 + size
                continue
            }
            guard magic == Self.frameMagic else {
                let what = frames == 0 ? "not a zstd frame" : "bytes after the last zstd frame are not a frame"
                throw .corrupt(.zstd, "\(what) (magic 0x\(String(magic, radix: 16)))", at: ip)
            }
            ip = try decodeFrame(base, count: n, at: ip, output: &output, out: &out)
            frames += 1
        }
    }

    private mutating func decodeFrame(
        _ base: UnsafeRawPointer, count n: Int, at frameStart: Int, output: inout [UInt8], out: inout BoundedOutput
    ) throws(CompressionError) -> Int {
        // Frame header (RFC 8878 §3.1.1.1).
        var ip = frameStart + 4
        guard ip < n else { throw .truncated(.zstd, "the frame header is cut off", at: ip) }
        let descriptor = base.byte(ip)
        ip += 1
        let contentSizeFlag = Int(descriptor >> 6)
        let singleSegment = descriptor & 0x20 != 0
        let hasChecksum = descriptor & 0x04 != 0
        let dictionaryFlag = Int(descriptor & 0x03)
        guard descriptor & 0x08 == 0 else {
            throw .corrupt(.zstd, "the frame header's reserved bit is set", at: ip - 1)
        }
        let dictionaryIDSize = [0, 1, 2, 4][dictionaryFlag]
        let contentSizeSize = contentSizeFlag == 0 ? (singleSegment ? 1 : 0) : [0, 2, 4, 8][contentSizeFlag]
        let headerRest = (singleSegment ? 0 : 1) + dictionaryIDSize + contentSizeSize
        guard n - ip >= headerRest else { throw .truncated(.zstd, "the frame header is cut off", at: ip) }
        var windowSize = 0
        if !singleSegment {
            let windowDescriptor = base.byte(ip)
            ip += 1
            let windowLog = 10 + Int(windowDescriptor >> 3)
            let windowBase = 1 << windowLog
            windowSize = windowBase + (windowBase >> 3) * Int(windowDescriptor & 7)
        }
        var dictionaryID: UInt32 = 0
        for index in 0..<dictionaryIDSize { dictionaryID |= UInt32(base.byte(ip + index)) << (8 * index) }
        ip += dictionaryIDSize
        guard dictionaryID == 0 else {
            throw .unsupported(.zstd, "the frame needs dictionary \(dictionaryID), and dictionaries are not supported", at: ip)
        }
        var contentSize: UInt64?
        if contentSizeSize > 0 {
            var value: UInt64 = 0
            for index in 0..<contentSizeSize { value |= UInt64(base.byte(ip + index)) << (8 * index) }
            if contentSizeSize == 2 { value += 256 }
            contentSize = value
            ip += contentSizeSize
        }
        if let contentSize {
            guard contentSize <= UInt64(out.remainingLimit) else {
                throw .limitExceeded(.zstd, limit: out.limit, at: frameStart)
            }
            if singleSegment { windowSize = Int(contentSize) }
        }
        let blockMax = min(windowSize, Self.maxBlockSize)
        // Reserve the declared size up front only when the input could plausibly hold it;
        // otherwise grow block by block (a lying header cannot force a large allocation).
        if let contentSize, Int(contentSize) <= (n - ip) * 64 + Self.maxBlockSize {
            out.reserve(&output, Int(contentSize))
        }

        huffmanBits = 0
        literalLengthLog = -1
        offsetLog = -1
        matchLengthLog = -1
        repeatOffsets = (1, 4, 8)
        let frameOutStart = out.end

        // Blocks (RFC 8878 §3.1.1.2).
        while true {
            guard n - ip >= 3 else { throw .truncated(.zstd, "a block header is cut off", at: ip) }
            let header = Int(base.byte(ip)) | Int(base.byte(ip + 1)) << 8 | Int(base.byte(ip + 2)) << 16
            let blockStart = ip
            ip += 3
            let lastBlock = header & 1 != 0
            let blockType = (header >> 1) & 3
            let blockSize = header >> 3
            switch blockType {
            case 0:  // Raw
                guard blockSize <= blockMax else {
                    throw .corrupt(.zstd, "a raw block of \(blockSize) bytes exceeds the \(blockMax)-byte block maximum", at: blockStart)
                }
                guard blockSize <= n - ip else { throw .truncated(.zstd, "a raw block runs past the end of the input", at: ip) }
                guard blockSize <= out.remainingLimit else { throw .limitExceeded(.zstd, limit: out.limit, at: blockStart) }
                let at = out.end
                out.reserve(&output, blockSize)
                withOutputBase(&output) { outputBase, _ in
                    (outputBase + at).copyMemory(from: base + ip, byteCount: blockSize)
                }
                out.end += blockSize
                ip += blockSize
            case 1:  // RLE: one byte repeated blockSize times
                guard blockSize <= blockMax else {
                    throw .corrupt(.zstd, "an RLE block of \(blockSize) bytes exceeds the \(blockMax)-byte block maximum", at: blockStart)
                }
                guard ip < n else { throw .truncated(.zstd, "an RLE block's byte is cut off", at: ip) }
                guard blockSize <= out.remainingLimit else { throw .limitExceeded(.zstd, limit: out.limit, at: blockStart) }
                let value = base.byte(ip)
                let at = out.end
                out.reserve(&output, blockSize)
                withOutputBase(&output) { outputBase, _ in
                    _ = (outputBase + at).initializeMemory(as: UInt8.self, repeating: value, count: blockSize)
                }
                out.end += blockSize
                ip += 1
            case 2:  // Compressed
                guard blockSize <= blockMax else {
                    throw .corrupt(.zstd, "a compressed block of \(blockSize) bytes exceeds the \(blockMax)-byte block maximum", at: blockStart)
                }
                guard blockSize <= n - ip else { throw .truncated(.zstd, "a compressed block runs past the end of the input", at: ip) }
                var literalNeed = blockMax
                if let contentSize { literalNeed = min(literalNeed, Int(contentSize)) }
                prepareWorkspace(literalCapacity: literalNeed)
                let hardEnd = out.end + blockMax
                let writeEnd = min(hardEnd, out.limitEnd)
                let overflow: CompressionError = hardEnd > out.limitEnd
                    ? .limitExceeded(.zstd, limit: out.limit, at: blockStart)
                    : .corrupt(.zstd, "a block decodes to more than the \(blockMax)-byte block maximum", at: blockStart)
                let at = out.end
                out.reserve(&output, blockMax)
                let blockInput = base + ip
                let inputOffset = ip
                let end = try withOutputBase(&output) { (outputBase, bufferEnd) throws(CompressionError) -> Int in
                    try decodeCompressedBlock(
                        blockInput, count: blockSize, inputOffset: inputOffset,
                        output: outputBase, at: at, writeEnd: writeEnd, bufferEnd: bufferEnd,
                        frameStart: frameOutStart, windowSize: windowSize, overflow: overflow)
                }
                out.end = end
                ip += blockSize
            default:
                throw .corrupt(.zstd, "block type 3 is reserved", at: blockStart)
            }
            if lastBlock { break }
        }

        let produced = out.end - frameOutStart
        if let contentSize, UInt64(produced) != contentSize {
            throw .corrupt(.zstd, "the frame declares \(contentSize) bytes but holds \(produced)", at: frameStart)
        }
        if hasChecksum {
            guard n - ip >= 4 else { throw .truncated(.zstd, "the content checksum is cut off", at: ip) }
            let expected = base.le32(ip)
            let actual = withOutputBase(&output) { outputBase, _ in
                UInt32(truncatingIfNeeded: XXHash64.hash(UnsafeRawPointer(outputBase + frameOutStart), count: produced))
            }
            guard expected == actual else { throw .corrupt(.zstd, "content checksum mismatch", at: ip) }
            ip += 4
        }
        return ip
    }

    /// Decodes one compressed block (RFC 8878 §3.1.1.3) into `output` at `at`; returns the new end.
    private mutating func decodeCompressedBlock(
        _ src: UnsafeRawPointer, count n: Int, inputOffset: Int,
        output: UnsafeMutableRawPointer, at: Int, writeEnd: Int, bufferEnd: Int, frameStart: Int,
        windowSize: Int, overflow: CompressionError
    ) throws(CompressionError) -> Int {
        let section = try decodeLiterals(src, count: n, inputOffset: inputOffset)
        return try decodeSequences(
            src + section.size, count: n - section.size, inputOffset: inputOffset + section.size,
            literals: section.pointer, literalCount: section.count, literalSlack: section.slack,
            output: output, at: at, writeEnd: writeEnd, bufferEnd: bufferEnd, frameStart: frameStart,
            windowSize: windowSize, overflow: overflow)
    }
}

