/// The literals section of a compressed block (RFC 8878 §3.1.1.3.1) and Huffman decoding (§4.2).
extension ZstdDecoder {
    static let maxHuffmanBits = 11

    /// Where a block's literals are, how many, and how many block bytes the section used.
    /// `slack` says 16 bytes may be read past any literal (true for the workspace buffer).
    struct LiteralsSection {
        var pointer: UnsafeRawPointer
        var count: Int
        var size: Int
        var slack: Bool
    }

    mutating func decodeLiterals(_ src: UnsafeRawPointer, count n: Int, inputOffset: Int) throws(CompressionError) -> LiteralsSection {
        guard n >= 1 else { throw .truncated(.zstd, "a compressed block is empty", at: inputOffset) }
        let byte0 = Int(src.byte(0))
        let type = byte0 & 3
        let sizeFormat = (byte0 >> 2) & 3
        if type < 2 {
            // Raw or RLE literals: only a regenerated size.
            let regenerated: Int
            let headerSize: Int
            switch sizeFormat {
            case 0, 2:
                regenerated = byte0 >> 3
                headerSize = 1
            case 1:
                guard n >= 2 else { throw .truncated(.zstd, "a literals header is cut off", at: inputOffset) }
                regenerated = (byte0 >> 4) + (Int(src.byte(1)) << 4)
                headerSize = 2
            default:
                guard n >= 3 else { throw .truncated(.zstd, "a literals header is cut off", at: inputOffset) }
                regenerated = (byte0 >> 4) + (Int(src.byte(1)) << 4) + (Int(src.byte(2)) << 12)
                headerSize = 3
            }
            guard regenerated <= literalCapacity || (type == 0 && regenerated <= Self.maxBlockSize) else {
                throw .corrupt(.zstd, "\(regenerated) literals exceed the block maximum", at: inputOffset)
            }
            if type == 0 {
                guard regenerated <= n - headerSize else {
                    throw .corrupt(.zstd, "raw literals run past the end of the block", at: inputOffset + headerSize)
                }
                return LiteralsSection(pointer: src + headerSize, count: regenerated, size: headerSize + regenerated, slack: false)
            }
            guard n > headerSize else { throw .corrupt(.zstd, "an RLE literals byte is missing", at: inputOffset + headerSize) }
            literals.initialize(repeating: src.byte(headerSize), count: regenerated)
            return LiteralsSection(pointer: UnsafeRawPointer(literals), count: regenerated, size: headerSize + 1, slack: true)
        }

        // Compressed (new Huffman tree) or treeless (previous tree) literals.
        let headerSize = [3, 3, 4, 5][sizeFormat]
        let sizeBits = [10, 10, 14, 18][sizeFormat]
        let fourStreams = sizeFormat != 0
        guard n >= headerSize else { throw .truncated(.zstd, "a literals header is cut off", at: inputOffset) }
        var header = 0
        for index in 0..<headerSize { header |= Int(src.byte(index)) << (8 * index) }
        let mask = (1 << sizeBits) - 1
        let regenerated = (header >> 4) & mask
        let compressed = (header >> (4 + sizeBits)) & mask
        guard regenerated <= literalCapacity else {
            throw .corrupt(.zstd, "\(regenerated) literals exceed the block maximum", at: inputOffset)
        }
        guard compressed <= n - headerSize else {
            throw .corrupt(.zstd, "compressed literals run past the end of the block", at: inputOffset + headerSize)
        }
        var streamsAt = headerSize
        if type == 2 {
            streamsAt += try readHuffmanTree(src + headerSize, count: compressed, inputOffset: inputOffset + headerSize)
        } else if huffmanBits == 0 {
            throw .corrupt(.zstd, "treeless literals without an earlier Huffman table in the frame", at: inputOffset)
        }
        let streamsSize = headerSize + compressed - streamsAt
        let streams = src + streamsAt
        let streamsOffset = inputOffset + streamsAt
        if !fourStreams {
            try decodeHuffmanStream(streams, count: streamsSize, into: literals, symbols: regenerated, inputOffset: streamsOffset)
        } else {
            guard streamsSize >= 10 else { throw .corrupt(.zstd, "a 4-stream literals jump table is cut off", at: streamsOffset) }
            let size1 = Int(streams.le16(0))
            let size2 = Int(streams.le16(2))
            let size3 = Int(streams.le16(4))
            let size4 = streamsSize - 6 - size1 - size2 - size3
            guard size4 >= 1 else { throw .corrupt(.zstd, "literal stream sizes exceed the literals section", at: streamsOffset) }
            // RFC 8878 §3.1.1.3.1.1: the 4-stream size formats hold 6 literals or more.
            guard regenerated >= 6 else {
                throw .corrupt(.zstd, "\(regenerated) literals in 4 Huffman streams (the format needs at least 6)", at: inputOffset)
            }
            let segment = (regenerated + 3) / 4
            let lastSegment = regenerated - 3 * segment
            guard lastSegment >= 0 else { throw .corrupt(.zstd, "too few literals for 4 streams", at: inputOffset) }
            try decodeFourHuffmanStreams(
                streams, sizes: (size1, size2, size3, size4), segment: segment, lastSegment: lastSegment, inputOffset: streamsOffset)
        }
        return LiteralsSection(pointer: UnsafeRawPointer(literals), count: regenerated, size: headerSize + compressed, slack: true)
    }

    /// Reads a Huffman tree description (RFC 8878 §4.2.1) and builds the decoding table.
    /// Returns the bytes it used.
    private mutating func readHuffmanTree(_ src: UnsafeRawPointer, count n: Int, inputOffset: Int) throws(CompressionError) -> Int {
        guard n >= 1 else { throw .truncated(.zstd, "the Huffman tree description is missing", at: inputOffset) }
        let headerByte = Int(src.byte(0))
        var weightCount: Int
        let used: Int
        if headerByte >= 128 {
            // Direct representation: 4 bits per weight.
            weightCount = headerByte - 127
            let bytes = (weightCount + 1) / 2
            guard bytes <= n - 1 else { throw .corrupt(.zstd, "Huffman weights run past the literals section", at: inputOffset) }
            for index in 0..<weightCount {
                let byte = src.byte(1 + index / 2)
                weights[index] = index & 1 == 0 ? byte >> 4 : byte & 15
            }
            used = 1 + bytes
        } else {
            // FSE-compressed weights: two interleaved states over one table (accuracy log <= 6).
            let size = headerByte
            guard size >= 1, size <= n - 1 else {
                throw .corrupt(.zstd, "FSE-compressed Huffman weights run past the literals section", at: inputOffset)
            }
            let distribution = try ZstdFSE.readDistribution(
                src + 1, count: size, maxAccuracyLog: 6, maxSymbol: 255, into: probabilities, inputOffset: inputOffset + 1)
            guard ZstdFSE.buildTable(
                probabilities, symbolCount: distribution.symbolCount, accuracyLog: distribution.accuracyLog,
                into: fseScratch, next: symbolNext)
            else { throw .corrupt(.zstd, "an invalid FSE table for Huffman weights", at: inputOffset + 1) }
            let streamSize = size - distribution.size
            guard var reader = BackwardBitReader(src + 1 + distribution.size, count: streamSize) else {
                throw .corrupt(.zstd, "the Huffman weights bitstream is empty or lacks its end marker", at: inputOffset + 1 + distribution.size)
            }
            let log = distribution.accuracyLog
            var state1 = Int(reader.read(log))
            var state2 = Int(reader.read(log))
            // RFC 8878 §4.2.1.2: both initial states must be in the stream.
            reader.reload()
            guard !reader.overflowed else {
                throw .corrupt(.zstd, "the Huffman weights bitstream is too short for its two initial states", at: inputOffset + 1 + distribution.size)
            }
            weightCount = 0
            // Decode until the stream is over-read; then the other state gives the last weight.
            while true {
                guard weightCount <= 253 else { throw .corrupt(.zstd, "more than 255 Huffman weights", at: inputOffset) }
                reader.reload()
                let entry1 = fseScratch[state1]
                weights[weightCount] = entry1.symbol
                weightCount += 1
                state1 = Int(entry1.baseline) + Int(reader.read(Int(entry1.bits)))
                reader.reload()
                if reader.overflowed {
                    weights[weightCount] = fseScratch[state2].symbol
                    weightCount += 1
                    break
                }
                guard weightCount <= 253 else { throw .corrupt(.zstd, "more than 255 Huffman weights", at: inputOffset) }
                let entry2 = fseScratch[state2]
                weights[weightCount] = entry2.symbol
                weightCount += 1
                state2 = Int(entry2.baseline) + Int(reader.read(Int(entry2.bits)))
                reader.reload()
                if reader.overflowed {
                    weights[weightCount] = fseScratch[state1].symbol
                    weightCount += 1
                    break
                }
            }
            used = 1 + size
        }

        // Weights to the table: the last symbol's weight completes a power of two.
        var total = 0
        try withUnsafeTemporaryAllocation(of: Int.self, capacity: Self.maxHuffmanBits + 2) { (counts) throws(CompressionError) in
            counts.initialize(repeating: 0)
            for index in 0..<weightCount {
                let weight = Int(weights[index])
                guard weight <= Self.maxHuffmanBits else {
                    throw .corrupt(.zstd, "Huffman weight \(weight) exceeds \(Self.maxHuffmanBits)", at: inputOffset)
                }
                counts[weight] += 1
                if weight > 0 { total += 1 << (weight - 1) }
            }
            guard total > 0 else { throw .corrupt(.zstd, "all Huffman weights are zero", at: inputOffset) }
            let maxBits = Int.bitWidth - total.leadingZeroBitCount  // highest bit + 1
            guard maxBits <= Self.maxHuffmanBits else {
                throw .corrupt(.zstd, "the Huffman tree is deeper than \(Self.maxHuffmanBits) bits", at: inputOffset)
            }
            let rest = (1 << maxBits) - total
            guard rest > 0, rest & (rest - 1) == 0 else {
                throw .corrupt(.zstd, "Huffman weights do not complete to a power of two", at: inputOffset)
            }
            let lastWeight = Int.bitWidth - rest.leadingZeroBitCount  // log2(rest) + 1
            weights[weightCount] = UInt8(lastWeight)
            counts[lastWeight] += 1
            // RFC 8878 §4.2.1: the least frequent symbols have weight 1; a tree without one
            // describes codes longer than any symbol uses.
            guard counts[1] > 0 else {
                throw .corrupt(.zstd, "no Huffman weight is 1, so the tree description is invalid", at: inputOffset)
            }
            let symbolCount = weightCount + 1
            // Table slots: lowest weights (longest codes) first, symbols in natural order.
            var start = 0
            for weight in 1...Self.maxHuffmanBits {
                let count = counts[weight]
                counts[weight] = start
                start += count << (weight - 1)
            }
            for symbol in 0..<symbolCount {
                let weight = Int(weights[symbol])
                guard weight > 0 else { continue }
                let length = 1 << (weight - 1)
                let entry = UInt16(symbol) | UInt16(maxBits + 1 - weight) << 8
                (huffmanTable + counts[weight]).initialize(repeating: entry, count: length)
                counts[weight] += length
            }
            huffmanBits = maxBits
        }
        return used
    }

    @inline(__always)
    private static func decodeSymbol(
        _ reader: inout BackwardBitReader, _ table: UnsafeMutablePointer<UInt16>, _ bits: Int,
        _ dest: UnsafeMutablePointer<UInt8>, _ index: Int
    ) {
        let entry = table[Int(truncatingIfNeeded: reader.peek(bits))]
        dest[index] = UInt8(truncatingIfNeeded: entry)
        reader.skip(Int(entry >> 8))
    }

    /// Decodes symbols `from..<to` of one stream into `dest`, then checks the stream was consumed exactly.
    private func finishHuffmanStream(
        _ reader: inout BackwardBitReader, into dest: UnsafeMutablePointer<UInt8>, from: Int, to symbols: Int, inputOffset: Int
    ) throws(CompressionError) {
        let table = huffmanTable
        let bits = huffmanBits
        var index = from
        // After a reload at least 57 bits are available: 4 symbols of at most 11 bits fit.
        while symbols - index >= 4 {
            reader.reload()
            Self.decodeSymbol(&reader, table, bits, dest, index)
            Self.decodeSymbol(&reader, table, bits, dest, index + 1)
            Self.decodeSymbol(&reader, table, bits, dest, index + 2)
            Self.decodeSymbol(&reader, table, bits, dest, index + 3)
            index += 4
        }
        while index < symbols {
            reader.reload()
            Self.decodeSymbol(&reader, table, bits, dest, index)
            index += 1
        }
        guard reader.finished else {
            throw .corrupt(.zstd, "a Huffman stream was not consumed exactly", at: inputOffset)
        }
    }

    /// Decodes `symbols` literals from one backward Huffman stream, which must be consumed exactly.
    private func decodeHuffmanStream(
        _ src: UnsafeRawPointer, count: Int, into dest: UnsafeMutablePointer<UInt8>, symbols: Int, inputOffset: Int
    ) throws(CompressionError) {
        guard var reader = BackwardBitReader(src, count: count) else {
            throw .corrupt(.zstd, "a Huffman stream is empty or lacks its end marker", at: inputOffset)
        }
        try finishHuffmanStream(&reader, into: dest, from: 0, to: symbols, inputOffset: inputOffset)
    }

    /// Decodes the four streams of a 4-stream literals block, interleaved so the CPU can work on
    /// all four at once; each stream must be consumed exactly.
    private func decodeFourHuffmanStreams(
        _ streams: UnsafeRawPointer, sizes: (Int, Int, Int, Int), segment: Int, lastSegment: Int, inputOffset: Int
    ) throws(CompressionError) {
        let offsets = (6, 6 + sizes.0, 6 + sizes.0 + sizes.1, 6 + sizes.0 + sizes.1 + sizes.2)
        guard var reader1 = BackwardBitReader(streams + offsets.0, count: sizes.0),
              var reader2 = BackwardBitReader(streams + offsets.1, count: sizes.1),
              var reader3 = BackwardBitReader(streams + offsets.2, count: sizes.2),
              var reader4 = BackwardBitReader(streams + offsets.3, count: sizes.3)
        else {
            throw .corrupt(.zstd, "a Huffman stream is empty or lacks its end marker", at: inputOffset)
        }
        let table = huffmanTable
        let bits = huffmanBits
        let dest1 = literals
        let dest2 = literals + segment
        let dest3 = literals + 2 * segment
        let dest4 = literals + 3 * segment
        var index = 0
        while lastSegment - index >= 4 {
            reader1.reload()
            reader2.reload()
            reader3.reload()
            reader4.reload()
            for step in 0..<4 {
                Self.decodeSymbol(&reader1, table, bits, dest1, index + step)
                Self.decodeSymbol(&reader2, table, bits, dest2, index + step)
                Self.decodeSymbol(&reader3, table, bits, dest3, index + step)
                Self.decodeSymbol(&reader4, table, bits, dest4, index + step)
            }
            index += 4
        }
        try finishHuffmanStream(&reader1, into: dest1, from: index, to: segment, inputOffset: inputOffset + offsets.0)
        try finishHuffmanStream(&reader2, into: dest2, from: index, to: segment, inputOffset: inputOffset + offsets.1)
        try finishHuffmanStream(&reader3, into: dest3, from: index, to: segment, inputOffset: inputOffset + offsets.2)
        try finishHuffmanStream(&reader4, into: dest4, from: index, to: lastSegment, inputOffset: inputOffset + offsets.3)
    }
}
