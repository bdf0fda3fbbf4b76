/// The sequences section (RFC 8878 §3.1.1.3.2): the sequence count, a compression mode per
/// stream (predefined, RLE or a new FSE table, whichever costs fewest bits) and the interleaved
/// FSE bitstream.
extension ZstdEncoder {
    // Literal length codes 16...35 and match length codes 32...52 (RFC 8878 §3.1.1.3.2.1.1).
    static let literalLengthBase: [Int] = [
        16, 18, 20, 22, 24, 28, 32, 40, 48, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536,
    ]
    static let literalLengthExtra: [Int] = [1, 1, 1, 1, 2, 2, 3, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]
    static let matchLengthBase: [Int] = [
        35, 37, 39, 41, 43, 47, 51, 59, 67, 83, 99, 131, 259, 515, 1027, 2051, 4099, 8195, 16387, 32771, 65539,
    ]
    static let matchLengthExtra: [Int] = [1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]

    // Default distributions (RFC 8878 §3.1.1.3.2.2) and their encoding tables.
    static let literalLengthDefault: [Int16] = [
        4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 2, 1, 1, 1, 1, 1, -1, -1, -1, -1,
    ]
    static let matchLengthDefault: [Int16] = [
        1, 4, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1,
    ]
    static let offsetDefault: [Int16] = [
        1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1,
    ]
    static let predefinedLiteralLength = literalLengthDefault.withUnsafeBufferPointer { ZstdFSEEncodingTable($0, accuracyLog: 6) }
    static let predefinedMatchLength = matchLengthDefault.withUnsafeBufferPointer { ZstdFSEEncodingTable($0, accuracyLog: 6) }
    static let predefinedOffset = offsetDefault.withUnsafeBufferPointer { ZstdFSEEncodingTable($0, accuracyLog: 5) }

    /// Code of a literal length (0 ..< 2^17).
    @inline(__always)
    static func literalLengthCode(_ length: Int) -> Int {
        if length < 16 { return length }
        if length >= 64 { return (Int.bitWidth - 1 - length.leadingZeroBitCount) + 19 }
        var code = 16
        while code < 24 && literalLengthBase[code - 15] <= length { code += 1 }
        return code
    }

    /// Code of a match length (3 ..< 2^17 + 3).
    @inline(__always)
    static func matchLengthCode(_ length: Int) -> Int {
        let value = length - 3
        if value < 32 { return value }
        if value >= 128 { return (Int.bitWidth - 1 - value.leadingZeroBitCount) + 36 }
        var code = 32
        while code < 42 && matchLengthBase[code - 31] <= length { code += 1 }
        return code
    }

    /// How one stream of codes is written.
    private enum Mode {
        case predefined, rle(Int), compressed(log: Int)

        var bits: Int {
            switch self {
            case .predefined: 0
            case .rle: 1
            case .compressed: 2
            }
        }
    }

    /// Writes the sequences section for `count` sequences into `dest`; returns its size, or
    /// nil when it would exceed `capacity` (`dest` has `outputSlack` more bytes of room).
    func writeSequences(count: Int, into dest: UnsafeMutableRawPointer, capacity: Int) -> Int? {
        guard capacity >= 4 else { return nil }
        var op: Int
        if count < 128 {
            dest.setByte(UInt8(count), at: 0)
            op = 1
        } else if count < 0x7F00 {
            dest.setByte(UInt8(truncatingIfNeeded: (count >> 8) + 0x80), at: 0)
            dest.setByte(UInt8(truncatingIfNeeded: count), at: 1)
            op = 2
        } else {
            dest.setByte(0xFF, at: 0)
            dest.setLE16(UInt16(truncatingIfNeeded: count - 0x7F00), at: 1)
            op = 3
        }
        guard count > 0 else { return op }

        // Codes and their histograms.
        var literalCounts = [Int](repeating: 0, count: 36)
        var matchCounts = [Int](repeating: 0, count: 53)
        var offsetCounts = [Int](repeating: 0, count: 32)
        for index in 0..<count {
            let literalCode = Self.literalLengthCode(Int(literalLengths[index]))
            let matchCode = Self.matchLengthCode(Int(matchLengths[index]))
            let offsetCode = Int.bitWidth - 1 - Int(offsetValues[index]).leadingZeroBitCount
            literalLengthCodes[index] = UInt8(literalCode)
            matchLengthCodes[index] = UInt8(matchCode)
            offsetCodes[index] = UInt8(offsetCode)
            literalCounts[literalCode] += 1
            matchCounts[matchCode] += 1
            offsetCounts[offsetCode] += 1
        }

        let modesAt = op
        op += 1
        let limit = capacity + 8
        guard let literalMode = chooseMode(
            literalCounts, total: count, defaults: Self.literalLengthDefault, defaultLog: 6, maxLog: 9,
            table: &literalLengthTable, dest: dest + op, capacity: limit - op)
        else { return nil }
        op += literalMode.size
        guard let offsetMode = chooseMode(
            offsetCounts, total: count, defaults: Self.offsetDefault, defaultLog: 5, maxLog: 8,
            table: &offsetTable, dest: dest + op, capacity: limit - op)
        else { return nil }
        op += offsetMode.size
        guard let matchMode = chooseMode(
            matchCounts, total: count, defaults: Self.matchLengthDefault, defaultLog: 6, maxLog: 9,
            table: &matchLengthTable, dest: dest + op, capacity: limit - op)
        else { return nil }
        op += matchMode.size
        dest.setByte(UInt8(literalMode.mode.bits << 6 | offsetMode.mode.bits << 4 | matchMode.mode.bits << 2), at: modesAt)
        guard op + 8 < limit else { return nil }

        func table(_ mode: Mode, _ own: ZstdFSEEncodingTable, _ predefined: ZstdFSEEncodingTable) -> ZstdFSEEncodingTable? {
            switch mode {
            case .predefined: predefined
            case .rle: nil
            case .compressed: own
            }
        }
        var writer = ZstdBitWriter(dest + op, capacity: limit - op)
        encodeSequences(
            count: count,
            literal: table(literalMode.mode, literalLengthTable, Self.predefinedLiteralLength),
            offset: table(offsetMode.mode, offsetTable, Self.predefinedOffset),
            match: table(matchMode.mode, matchLengthTable, Self.predefinedMatchLength),
            writer: &writer)
        guard let streamSize = writer.close() else { return nil }
        op += streamSize
        return op <= capacity ? op : nil
    }

    /// Picks the cheapest mode for one stream's codes and writes its table description, if any.
    private func chooseMode(
        _ counts: [Int], total: Int, defaults: [Int16], defaultLog: Int, maxLog: Int,
        table: inout ZstdFSEEncodingTable, dest: UnsafeMutableRawPointer, capacity: Int
    ) -> (mode: Mode, size: Int)? {
        var present = 0
        var lastSymbol = 0
        for (symbol, count) in counts.enumerated() where count > 0 {
            present += 1
            lastSymbol = symbol
        }
        if present == 1 {
            guard capacity > 1 else { return nil }
            dest.setByte(UInt8(lastSymbol), at: 0)
            return (.rle(lastSymbol), 1)
        }
        // Cost in bits with the predefined table (only if it has every symbol).
        var predefinedCost = Double.infinity
        if lastSymbol < defaults.count {
            predefinedCost = 0
            for symbol in 0...lastSymbol where counts[symbol] > 0 {
                let probability = max(1, Int(defaults[symbol]))
                predefinedCost += Double(counts[symbol]) * (Double(defaultLog) - Self.log2(probability))
            }
        }
        // Cost with a table of our own, including its description.
        let log = ZstdFSEEncoder.accuracyLog(total: total, present: present, maxLog: maxLog)
        var probabilities = [Int16](repeating: 0, count: lastSymbol + 1)
        let normalized = counts.withUnsafeBufferPointer { counts in
            probabilities.withUnsafeMutableBufferPointer { probabilities in
                ZstdFSEEncoder.normalize(
                    counts.baseAddress.unsafelyUnwrapped, symbolCount: lastSymbol + 1, total: total, log: log,
                    into: probabilities.baseAddress.unsafelyUnwrapped)
            }
        }
        if normalized, capacity > 8 {
            let descriptionSize = probabilities.withUnsafeBufferPointer { probabilities in
                ZstdFSEEncoder.writeDescription(
                    probabilities.baseAddress.unsafelyUnwrapped, symbolCount: lastSymbol + 1, log: log,
                    into: dest, capacity: capacity)
            }
            if let descriptionSize {
                var ownCost = Double(descriptionSize * 8)
                for symbol in 0...lastSymbol where counts[symbol] > 0 {
                    ownCost += Double(counts[symbol]) * (Double(log) - Self.log2(Int(probabilities[symbol])))
                }
                if ownCost < predefinedCost {
                    probabilities.withUnsafeBufferPointer { table.build($0, accuracyLog: log) }
                    return (.compressed(log: log), descriptionSize)
                }
            }
        }
        guard predefinedCost.isFinite else { return nil }
        return (.predefined, 0)
    }

    private static func log2(_ value: Int) -> Double {
        var result = Double(Int.bitWidth - 1 - value.leadingZeroBitCount)
        let fraction = Double(value) / Double(1 << Int(result))
        // log2 on [1, 2): a few terms are enough for a cost estimate.
        result += (fraction - 1) * (1.4427 - 0.4427 * (fraction - 1))
        return result
    }

    /// The interleaved FSE bitstream (RFC 8878 §3.1.1.3.2.2, "Decoding Sequences"), written in
    /// reverse so the decoder, reading backward, meets the sequences in order. A nil table is RLE
    /// mode: no state bits.
    private func encodeSequences(
        count: Int, literal: ZstdFSEEncodingTable?, offset: ZstdFSEEncodingTable?, match: ZstdFSEEncodingTable?,
        writer: inout ZstdBitWriter
    ) {
        let literalTable = literal ?? Self.predefinedLiteralLength
        let offsetTable = offset ?? Self.predefinedOffset
        let matchTable = match ?? Self.predefinedMatchLength
        literalTable.withCoder(active: literal != nil) { literalCoder in
            offsetTable.withCoder(active: offset != nil) { offsetCoder in
                matchTable.withCoder(active: match != nil) { matchCoder in
                    Self.literalLengthBase.withUnsafeBufferPointer { literalBase in
                        Self.literalLengthExtra.withUnsafeBufferPointer { literalExtra in
                            Self.matchLengthBase.withUnsafeBufferPointer { matchBase in
                                Self.matchLengthExtra.withUnsafeBufferPointer { matchExtra in
                                    encodeSequences(
                                        count: count, literal: literalCoder, offset: offsetCoder, match: matchCoder,
                                        extras: (literalBase, literalExtra, matchBase, matchExtra), writer: &writer)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private func encodeSequences(
        count: Int, literal: ZstdFSEEncodingTable.Coder, offset: ZstdFSEEncodingTable.Coder, match: ZstdFSEEncodingTable.Coder,
        extras tables: (UnsafeBufferPointer<Int>, UnsafeBufferPointer<Int>, UnsafeBufferPointer<Int>, UnsafeBufferPointer<Int>),
        writer: inout ZstdBitWriter
    ) {
        let (literalBase, literalExtra, matchBase, matchExtra) = tables
        @inline(__always)
        func extras(_ index: Int, _ writer: inout ZstdBitWriter) {
            let literalCode = Int(literalLengthCodes[index])
            if literalCode >= 16 {
                writer.add(UInt64(Int(literalLengths[index]) - literalBase[literalCode - 16]), literalExtra[literalCode - 16])
            }
            let matchCode = Int(matchLengthCodes[index])
            if matchCode >= 32 {
                writer.add(UInt64(Int(matchLengths[index]) - matchBase[matchCode - 32]), matchExtra[matchCode - 32])
            }
            writer.flush()
            let offsetCode = Int(offsetCodes[index])
            writer.add(UInt64(Int(offsetValues[index]) - (1 << offsetCode)), offsetCode)
            writer.flush()
        }
        let last = count - 1
        var literalState = literal.initialState(Int(literalLengthCodes[last]))
        var matchState = match.initialState(Int(matchLengthCodes[last]))
        var offsetState = offset.initialState(Int(offsetCodes[last]))
        extras(last, &writer)
        var index = last - 1
        while index >= 0 {
            // State updates are read literal length, match length, offset: write them reversed.
            offset.encode(&offsetState, Int(offsetCodes[index]), &writer)
            match.encode(&matchState, Int(matchLengthCodes[index]), &writer)
            literal.encode(&literalState, Int(literalLengthCodes[index]), &writer)
            writer.flush()
            extras(index, &writer)
            if writer.overflowed { return }
            index -= 1
        }
        // Initial states are read literal length, offset, match length.
        match.finish(matchState, &writer)
        offset.finish(offsetState, &writer)
        literal.finish(literalState, &writer)
        writer.flush()
    }
}
