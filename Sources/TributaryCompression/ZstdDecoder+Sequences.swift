/// The sequences section of a compressed block (RFC 8878 §3.1.1.3.2) and sequence execution (§3.1.1.4).
extension ZstdDecoder {
    enum SequenceKind {
        case literalLength, offset, matchLength

        var maxAccuracyLog: Int { self == .offset ? 8 : 9 }
        var maxSymbol: Int {
            switch self {
            case .literalLength: 35
            case .offset: 31
            case .matchLength: 52
            }
        }
    }

    // Literals length codes 16...35 and match length codes 32...52 (RFC 8878 §3.1.1.3.2.1.1).
    private static let literalLengthBase: [UInt32] = [
        16, 18, 20, 22, 24, 28, 32, 40, 48, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536,
    ]
    private static let literalLengthExtra: [UInt8] = [1, 1, 1, 1, 2, 2, 3, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]
    private static let matchLengthBase: [UInt32] = [
        35, 37, 39, 41, 43, 47, 51, 59, 67, 83, 99, 131, 259, 515, 1027, 2051, 4099, 8195, 16387, 32771, 65539,
    ]
    private static let matchLengthExtra: [UInt8] = [1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]

    // Default distributions (RFC 8878 §3.1.1.3.2.2).
    private static let literalLengthDefault: [Int16] = [
        4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 2, 1, 1, 1, 1, 1, -1, -1, -1, -1,
    ]
    private static let matchLengthDefault: [Int16] = [
        1, 4, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1,
    ]
    private static let offsetDefault: [Int16] = [
        1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1,
    ]

    private static let predefinedLiteralLength = predefinedTable(literalLengthDefault, accuracyLog: 6, kind: .literalLength)
    private static let predefinedMatchLength = predefinedTable(matchLengthDefault, accuracyLog: 6, kind: .matchLength)
    private static let predefinedOffset = predefinedTable(offsetDefault, accuracyLog: 5, kind: .offset)

    /// A code's value and extra bits.
    @inline(__always)
    static func codeValue(_ symbol: Int, kind: SequenceKind) -> (value: UInt32, extraBits: UInt8) {
        switch kind {
        case .literalLength:
            symbol < 16 ? (UInt32(symbol), 0) : (literalLengthBase[symbol - 16], literalLengthExtra[symbol - 16])
        case .matchLength:
            symbol < 32 ? (UInt32(symbol + 3), 0) : (matchLengthBase[symbol - 32], matchLengthExtra[symbol - 32])
        case .offset:
            (UInt32(1) << UInt32(symbol), UInt8(symbol))
        }
    }

    private static func predefinedTable(_ distribution: [Int16], accuracyLog: Int, kind: SequenceKind) -> [SequenceEntry] {
        let size = 1 << accuracyLog
        var fse = [FSEEntry](repeating: FSEEntry(), count: size)
        var next = [UInt16](repeating: 0, count: distribution.count)
        let built = distribution.withUnsafeBufferPointer { probabilities in
            fse.withUnsafeMutableBufferPointer { table in
                next.withUnsafeMutableBufferPointer { counters in
                    ZstdFSE.buildTable(
                        probabilities.baseAddress.unsafelyUnwrapped, symbolCount: distribution.count, accuracyLog: accuracyLog,
                        into: table.baseAddress.unsafelyUnwrapped, next: counters.baseAddress.unsafelyUnwrapped)
                }
            }
        }
        // The default distributions are constants from the RFC; they always build.
        precondition(built, "RFC 8878 default distribution failed to build")
        return fse.map { entry in
            let code = codeValue(Int(entry.symbol), kind: kind)
            return SequenceEntry(baseline: entry.baseline, bits: entry.bits, extraBits: code.extraBits, value: code.value)
        }
    }

    /// Sets up the table for `kind` per its compression mode; returns the bytes used.
    private mutating func prepareTable(
        _ kind: SequenceKind, mode: Int, _ src: UnsafeRawPointer, count n: Int, inputOffset: Int
    ) throws(CompressionError) -> Int {
        let table: UnsafeMutablePointer<SequenceEntry>
        switch kind {
        case .literalLength: table = literalLengthTable
        case .offset: table = offsetTable
        case .matchLength: table = matchLengthTable
        }
        var log: Int
        var used = 0
        switch mode {
        case 0:  // Predefined
            let predefined: [SequenceEntry]
            switch kind {
            case .literalLength: predefined = Self.predefinedLiteralLength
            case .offset: predefined = Self.predefinedOffset
            case .matchLength: predefined = Self.predefinedMatchLength
            }
            predefined.withUnsafeBufferPointer { entries in
                if let source = entries.baseAddress { table.update(from: source, count: entries.count) }
            }
            log = kind == .offset ? 5 : 6
        case 1:  // RLE: one symbol for every sequence
            guard n >= 1 else { throw .truncated(.zstd, "an RLE sequence symbol is missing", at: inputOffset) }
            let symbol = Int(src.byte(0))
            guard symbol <= kind.maxSymbol else {
                throw .corrupt(.zstd, "sequence code \(symbol) is out of range", at: inputOffset)
            }
            let code = Self.codeValue(symbol, kind: kind)
            table[0] = SequenceEntry(baseline: 0, bits: 0, extraBits: code.extraBits, value: code.value)
            log = 0
            used = 1
        case 2:  // FSE-compressed table description
            let distribution = try ZstdFSE.readDistribution(
                src, count: n, maxAccuracyLog: kind.maxAccuracyLog, maxSymbol: kind.maxSymbol,
                into: probabilities, inputOffset: inputOffset)
            guard ZstdFSE.buildTable(
                probabilities, symbolCount: distribution.symbolCount, accuracyLog: distribution.accuracyLog,
                into: fseScratch, next: symbolNext)
            else { throw .corrupt(.zstd, "an invalid FSE sequence table", at: inputOffset) }
            for state in 0..<(1 << distribution.accuracyLog) {
                let entry = fseScratch[state]
                let code = Self.codeValue(Int(entry.symbol), kind: kind)
                table[state] = SequenceEntry(baseline: entry.baseline, bits: entry.bits, extraBits: code.extraBits, value: code.value)
            }
            log = distribution.accuracyLog
            used = distribution.size
        default:  // Repeat the previous block's table
            let previous: Int
            switch kind {
            case .literalLength: previous = literalLengthLog
            case .offset: previous = offsetLog
            case .matchLength: previous = matchLengthLog
            }
            guard previous >= 0 else {
                throw .corrupt(.zstd, "repeat mode without an earlier sequence table in the frame", at: inputOffset)
            }
            log = previous
        }
        switch kind {
        case .literalLength: literalLengthLog = log
        case .offset: offsetLog = log
        case .matchLength: matchLengthLog = log
        }
        return used
    }

    /// Decodes the sequences section and executes every sequence, writing the block's output.
    mutating func decodeSequences(
        _ src: UnsafeRawPointer, count n: Int, inputOffset: Int,
        literals literalBase: UnsafeRawPointer, literalCount: Int, literalSlack: Bool,
        output base: UnsafeMutableRawPointer, at start: Int, writeEnd: Int, bufferEnd: Int, frameStart: Int,
        windowSize: Int, overflow: CompressionError
    ) throws(CompressionError) -> Int {
        guard n >= 1 else { throw .truncated(.zstd, "the sequences section header is missing", at: inputOffset) }
        let byte0 = Int(src.byte(0))
        var ip: Int
        let sequenceCount: Int
        if byte0 < 128 {
            sequenceCount = byte0
            ip = 1
        } else if byte0 < 255 {
            guard n >= 2 else { throw .truncated(.zstd, "the sequence count is cut off", at: inputOffset) }
            sequenceCount = ((byte0 - 128) << 8) + Int(src.byte(1))
            ip = 2
        } else {
            guard n >= 3 else { throw .truncated(.zstd, "the sequence count is cut off", at: inputOffset) }
            sequenceCount = Int(src.byte(1)) + (Int(src.byte(2)) << 8) + 0x7F00
            ip = 3
        }
        var op = start
        var literalAt = 0
        if sequenceCount > 0 {
            guard ip < n else { throw .truncated(.zstd, "the symbol compression modes are missing", at: inputOffset + ip) }
            let modes = Int(src.byte(ip))
            ip += 1
            guard modes & 3 == 0 else { throw .corrupt(.zstd, "reserved bits are set in the compression modes", at: inputOffset + ip - 1) }
            ip += try prepareTable(.literalLength, mode: modes >> 6, src + ip, count: n - ip, inputOffset: inputOffset + ip)
            ip += try prepareTable(.offset, mode: (modes >> 4) & 3, src + ip, count: n - ip, inputOffset: inputOffset + ip)
            ip += try prepareTable(.matchLength, mode: (modes >> 2) & 3, src + ip, count: n - ip, inputOffset: inputOffset + ip)
            guard var reader = BackwardBitReader(src + ip, count: n - ip) else {
                throw .corrupt(.zstd, "the sequence bitstream is empty or lacks its end marker", at: inputOffset + ip)
            }
            let literalLengths = literalLengthTable
            let offsets = offsetTable
            let matchLengths = matchLengthTable
            var literalLengthState = Int(reader.read(literalLengthLog))
            var offsetState = Int(reader.read(offsetLog))
            var matchLengthState = Int(reader.read(matchLengthLog))
            var repeat1 = repeatOffsets.0
            var repeat2 = repeatOffsets.1
            var repeat3 = repeatOffsets.2
            var remaining = sequenceCount
            while true {
                reader.reload()
                let offsetEntry = offsets[offsetState]
                let matchEntry = matchLengths[matchLengthState]
                let literalEntry = literalLengths[literalLengthState]
                let offsetValue = Int(offsetEntry.value) + Int(reader.read(Int(offsetEntry.extraBits)))
                reader.reload()
                let matchLength = Int(matchEntry.value) + Int(reader.read(Int(matchEntry.extraBits)))
                let literalLength = Int(literalEntry.value) + Int(reader.read(Int(literalEntry.extraBits)))

                // Repeat offsets (RFC 8878 §3.1.1.5).
                let offset: Int
                if offsetValue > 3 {
                    offset = offsetValue - 3
                    repeat3 = repeat2
                    repeat2 = repeat1
                    repeat1 = offset
                } else {
                    let index = offsetValue - 1 + (literalLength == 0 ? 1 : 0)
                    if index == 0 {
                        offset = repeat1
                    } else {
                        offset = index == 1 ? repeat2 : (index == 2 ? repeat3 : repeat1 - 1)
                        guard offset > 0 else { throw .corrupt(.zstd, "a repeat offset of 0", at: inputOffset + ip) }
                        if index != 1 { repeat3 = repeat2 }
                        repeat2 = repeat1
                        repeat1 = offset
                    }
                }

                // Execute: literals, then the match.
                guard literalLength <= literalCount - literalAt else {
                    throw .corrupt(.zstd, "a sequence uses more literals than the block holds", at: inputOffset + ip)
                }
                guard literalLength + matchLength <= writeEnd - op else { throw overflow }
                copyLiterals(
                    base, at: op, from: literalBase, literalAt, length: literalLength,
                    sourceSlack: literalSlack || literalCount - literalAt >= 16, bufferEnd: bufferEnd)
                op += literalLength
                literalAt += literalLength
                guard offset <= op - frameStart else {
                    throw .corrupt(.zstd, "match offset \(offset) points before the start of the frame", at: inputOffset + ip)
                }
                // RFC 8878 §3.1.1.4: offsets reach back less than Window_Size. Offsets equal to it
                // are accepted, as the reference encoder may write them and its decoder reads them.
                guard offset <= windowSize else {
                    throw .corrupt(.zstd, "match offset \(offset) reaches past the frame's \(windowSize)-byte window", at: inputOffset + ip)
                }
                copyMatch(base, at: op, offset: offset, length: matchLength, bufferEnd: bufferEnd)
                op += matchLength

                remaining -= 1
                if remaining == 0 { break }
                // State updates: literals length, match length, then offset.
                reader.reload()
                literalLengthState = Int(literalEntry.baseline) + Int(reader.read(Int(literalEntry.bits)))
                matchLengthState = Int(matchEntry.baseline) + Int(reader.read(Int(matchEntry.bits)))
                offsetState = Int(offsetEntry.baseline) + Int(reader.read(Int(offsetEntry.bits)))
                if reader.overflowed { break }
            }
            guard remaining == 0, reader.finished else {
                throw .corrupt(.zstd, "the sequence bitstream was not consumed exactly", at: inputOffset + ip)
            }
            repeatOffsets = (repeat1, repeat2, repeat3)
        } else {
            guard ip == n else { throw .corrupt(.zstd, "bytes follow an empty sequences section", at: inputOffset + ip) }
        }
        // Literals left after the last sequence end the block.
        let rest = literalCount - literalAt
        guard rest <= writeEnd - op else { throw overflow }
        (base + op).copyMemory(from: literalBase + literalAt, byteCount: rest)
        return op + rest
    }
}
