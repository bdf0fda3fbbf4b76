import TributaryWire

/// A Zstandard compressor (RFC 8878): frames of compressed blocks with Huffman-coded literals
/// and FSE-coded sequences, falling back to raw or RLE blocks when those are smaller.
///
/// Matches come from a greedy LZ77 parse over a hash table of 5-byte sequences with the
/// format's repeat offsets; the window is 128 KiB, the largest block, so any decoder can keep
/// it. Each block chooses per stream between the predefined, RLE and its own FSE table.
///
/// One encoder holds every work buffer (hash table, literals, sequences, a block of output);
/// none grows with the input beyond a block. ``ZstdCodec`` keeps one encoder for reuse.
///
/// `@unchecked Sendable`: an encoder is only ever used by one caller at a time. It is created
/// for a call or taken out of `spare` under its lock, and put back only when the call is done.
final class ZstdEncoder: @unchecked Sendable {
    static let blockSize = 128 * 1024
    /// The window our frames declare (2^17 bytes); every offset stays below it.
    static let windowLog = 17
    static let windowSize = 1 << windowLog
    static let maxHashLog = 16
    /// The most sequences one block can hold: every sequence but the last covers at least 4 bytes.
    static let maxSequences = blockSize / 4 + 1
    /// Room after the end of a block's output buffer for 8-byte stores.
    static let outputSlack = 64

    private let memory: UnsafeMutableRawPointer
    let hashTable: UnsafeMutablePointer<UInt32>
    let literals: UnsafeMutablePointer<UInt8>
    let literalLengths: UnsafeMutablePointer<UInt32>
    let matchLengths: UnsafeMutablePointer<UInt32>
    let offsetValues: UnsafeMutablePointer<UInt32>
    let literalLengthCodes: UnsafeMutablePointer<UInt8>
    let matchLengthCodes: UnsafeMutablePointer<UInt8>
    let offsetCodes: UnsafeMutablePointer<UInt8>
    /// One block's compressed form is built here before it is copied to the output.
    let blockOutput: UnsafeMutableRawPointer
    var literalLengthTable = ZstdFSEEncodingTable()
    var offsetTable = ZstdFSEEncodingTable()
    var matchLengthTable = ZstdFSEEncodingTable()

    /// Input of the frame being compressed.
    var input: UnsafeRawPointer
    var inputCount = 0
    var hashLog = 8
    /// Repeat offsets as the decoder will hold them after the last compressed block.
    var repeatOffsets = (1, 4, 8)

    init() {
        let hashBytes = (4 << Self.maxHashLog + 15) & ~15
        let literalBytes = (Self.blockSize + 32 + 15) & ~15
        let sequenceBytes = (Self.maxSequences * 4 + 15) & ~15
        let codeBytes = (Self.maxSequences + 15) & ~15
        let outputBytes = Self.blockSize + Self.outputSlack
        let total = hashBytes + literalBytes + 3 * sequenceBytes + 3 * codeBytes + outputBytes
        let raw = UnsafeMutableRawPointer.allocate(byteCount: total, alignment: 16)
        memory = raw
        var offset = 0
        func take(_ bytes: Int) -> UnsafeMutableRawPointer {
            defer { offset += bytes }
            return raw + offset
        }
        hashTable = take(hashBytes).bindMemory(to: UInt32.self, capacity: 1 << Self.maxHashLog)
        literals = take(literalBytes).bindMemory(to: UInt8.self, capacity: literalBytes)
        literalLengths = take(sequenceBytes).bindMemory(to: UInt32.self, capacity: Self.maxSequences)
        matchLengths = take(sequenceBytes).bindMemory(to: UInt32.self, capacity: Self.maxSequences)
        offsetValues = take(sequenceBytes).bindMemory(to: UInt32.self, capacity: Self.maxSequences)
        literalLengthCodes = take(codeBytes).bindMemory(to: UInt8.self, capacity: codeBytes)
        matchLengthCodes = take(codeBytes).bindMemory(to: UInt8.self, capacity: codeBytes)
        offsetCodes = take(codeBytes).bindMemory(to: UInt8.self, capacity: codeBytes)
        blockOutput = take(outputBytes)
        input = UnsafeRawPointer(raw)
    }

    deinit {
        memory.deallocate()
    }

    /// Encoders kept for the next `compress` call, so small batches do not pay for a fresh workspace.
    private static let spare = Locked<[ZstdEncoder]>([])
    private static let maxSpare = 2

    /// Runs `body` with an encoder taken from the spares, or a new one; returns it afterwards.
    static func withEncoder<R>(_ body: (ZstdEncoder) -> R) -> R {
        let encoder = spare.withLock { $0.popLast() } ?? ZstdEncoder()
        let result = body(encoder)
        encoder.input = UnsafeRawPointer(encoder.memory)
        encoder.inputCount = 0
        spare.withLock { spares in
            if spares.count < maxSpare { spares.append(encoder) }
        }
        return result
    }

    /// Worst-case frame size for `count` input bytes: every block stored raw.
    static func frameBound(_ count: Int) -> Int {
        let blocks = max(1, (count + blockSize - 1) / blockSize)
        return 4 + 14 + blocks * 3 + count + 4
    }

    /// Writes one frame for the `count` bytes at `source` into `dest` (room for
    /// `frameBound(count)` bytes); returns the frame's size.
    func compressFrame(_ source: UnsafeRawPointer?, count: Int, into dest: UnsafeMutableRawPointer) -> Int {
        dest.setLE32(ZstdDecoder.frameMagic, at: 0)
        var op = 4
        // Frame header: checksum flag, and the content size in the smallest field that fits.
        // Under 256 bytes: single segment with a 1-byte size (the window is the content).
        // Otherwise a 128 KiB window, which every decoder accepts, and a 2/4/8-byte size.
        let checksumFlag: UInt8 = 0x04
        let windowDescriptor = UInt8((Self.windowLog - 10) << 3)
        let window: Int
        if count < 256 {
            dest.setByte(0x20 | checksumFlag, at: op)
            dest.setByte(UInt8(count), at: op + 1)
            op += 2
            window = count
        } else if count < 65536 + 256 {
            dest.setByte(0x40 | checksumFlag, at: op)
            dest.setByte(windowDescriptor, at: op + 1)
            dest.setLE16(UInt16(count - 256), at: op + 2)
            op += 4
            window = Self.windowSize
        } else if count <= Int(UInt32.max) {
            dest.setByte(0x80 | checksumFlag, at: op)
            dest.setByte(windowDescriptor, at: op + 1)
            dest.setLE32(UInt32(count), at: op + 2)
            op += 6
            window = Self.windowSize
        } else {
            dest.setByte(0xC0 | checksumFlag, at: op)
            dest.setByte(windowDescriptor, at: op + 1)
            dest.setLE64(UInt64(count), at: op + 2)
            op += 10
            window = Self.windowSize
        }
        startFrame(source, count: count)
        var consumed = 0
        repeat {
            let chunk = min(Self.blockSize, count - consumed)
            let last = consumed + chunk == count ? 1 : 0
            if chunk > 0, let source, Self.isRun(source + consumed, count: chunk) {
                let header = last | (1 << 1) | (chunk << 3)
                dest.setByte(UInt8(truncatingIfNeeded: header), at: op)
                dest.setLE16(UInt16(truncatingIfNeeded: header >> 8), at: op + 1)
                dest.setByte(source.byte(consumed), at: op + 3)
                op += 4
            } else if let size = compressBlock(start: consumed, size: chunk, window: window) {
                let header = last | (2 << 1) | (size << 3)
                dest.setByte(UInt8(truncatingIfNeeded: header), at: op)
                dest.setLE16(UInt16(truncatingIfNeeded: header >> 8), at: op + 1)
                (dest + op + 3).copyMemory(from: blockOutput, byteCount: size)
                op += 3 + size
            } else {
                let header = last | (chunk << 3)
                dest.setByte(UInt8(truncatingIfNeeded: header), at: op)
                dest.setLE16(UInt16(truncatingIfNeeded: header >> 8), at: op + 1)
                op += 3
                if let source, chunk > 0 {
                    (dest + op).copyMemory(from: source + consumed, byteCount: chunk)
                }
                op += chunk
            }
            consumed += chunk
        } while consumed < count
        let checksum = XXHash64.hash(source, count: count)
        dest.setLE32(UInt32(truncatingIfNeeded: checksum), at: op)
        return op + 4
    }

    /// Resets the per-frame state: hash table sized for the input, initial repeat offsets.
    private func startFrame(_ source: UnsafeRawPointer?, count: Int) {
        input = source ?? UnsafeRawPointer(memory)
        inputCount = source == nil ? 0 : count
        var log = 8
        while log < Self.maxHashLog && (1 << log) < count { log += 1 }
        hashLog = log
        hashTable.initialize(repeating: 0, count: 1 << log)
        repeatOffsets = (1, 4, 8)
    }

    /// Compresses the block `start..<start + size` into `blockOutput`. Returns its size, or nil
    /// when it would not be smaller than the raw block (the caller stores it raw). Repeat
    /// offsets advance only when the block is kept: the decoder sees no sequences in a raw block.
    private func compressBlock(start: Int, size: Int, window: Int) -> Int? {
        // Under 16 bytes the headers alone eat any gain.
        guard size >= 16 else { return nil }
        var repeats = repeatOffsets
        let parsed = findSequences(start: start, end: start + size, window: window, repeats: &repeats)
        // The compressed block must be smaller than the raw one (which also keeps it below the
        // block maximum, RFC 8878 §3.1.1.2.4).
        let capacity = size - 1
        guard let literalSize = writeLiterals(count: parsed.literals, into: blockOutput, capacity: capacity) else { return nil }
        guard let sequenceSize = writeSequences(
            count: parsed.sequences, into: blockOutput + literalSize, capacity: capacity - literalSize)
        else { return nil }
        repeatOffsets = repeats
        return literalSize + sequenceSize
    }

    /// Whether all `count` (> 0) bytes equal the first one; short runs are left to the compressor.
    static func isRun(_ source: UnsafeRawPointer, count: Int) -> Bool {
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
}
