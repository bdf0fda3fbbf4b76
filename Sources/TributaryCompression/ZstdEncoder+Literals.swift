/// The literals section (RFC 8878 §3.1.1.3.1): raw, RLE, or Huffman-coded with a tree
/// description (§4.2.1) in 1 or 4 streams, whichever is smallest.
extension ZstdEncoder {
    static let maxHuffmanBits = 11
    /// Fewer literals than this are stored raw: a tree description costs more than it saves.
    static let minHuffmanLiterals = 64

    /// Writes the literals section for the first `count` bytes of `literals` into `dest`;
    /// returns its size, or nil when it would exceed `capacity` (`dest` has `outputSlack`
    /// more bytes of room for 8-byte stores).
    func writeLiterals(count: Int, into dest: UnsafeMutableRawPointer, capacity: Int) -> Int? {
        if count >= Self.minHuffmanLiterals {
            if let size = writeHuffmanLiterals(count: count, into: dest, capacity: min(capacity, count)) { return size }
        }
        // RLE when every literal is the same byte, else raw.
        if count > 1, Self.isSameByte(literals, count: count) {
            let headerSize = Self.writeSimpleHeader(type: 1, count: count, into: dest)
            guard headerSize + 1 <= capacity else { return nil }
            dest.setByte(literals[0], at: headerSize)
            return headerSize + 1
        }
        let headerSize = Self.writeSimpleHeader(type: 0, count: count, into: dest)
        guard headerSize + count <= capacity else { return nil }
        if count > 0 { (dest + headerSize).copyMemory(from: literals, byteCount: count) }
        return headerSize + count
    }

    private static func isSameByte(_ bytes: UnsafePointer<UInt8>, count: Int) -> Bool {
        let first = bytes[0]
        for index in 1..<count where bytes[index] != first { return false }
        return true
    }

    /// Header of raw (type 0) or RLE (type 1) literals: 1, 2 or 3 bytes by size.
    private static func writeSimpleHeader(type: Int, count: Int, into dest: UnsafeMutableRawPointer) -> Int {
        if count < 32 {
            dest.setByte(UInt8(truncatingIfNeeded: count << 3 | type), at: 0)
            return 1
        }
        if count < 4096 {
            dest.setLE16(UInt16(truncatingIfNeeded: count << 4 | 0b0100 | type), at: 0)
            return 2
        }
        let header = count << 4 | 0b1100 | type
        dest.setLE16(UInt16(truncatingIfNeeded: header), at: 0)
        dest.setByte(UInt8(truncatingIfNeeded: header >> 16), at: 2)
        return 3
    }

    /// Huffman-coded literals; nil when they would not be smaller than `capacity`, or for a
    /// single symbol (RLE literals), or when the tree cannot be described (symbols above 128
    /// with weights whose FSE form does not apply).
    private func writeHuffmanLiterals(count: Int, into dest: UnsafeMutableRawPointer, capacity: Int) -> Int? {
        var frequencies = [Int](repeating: 0, count: 256)
        frequencies.withUnsafeMutableBufferPointer { counts in
            for index in 0..<count { counts[Int(literals[index])] += 1 }
        }
        guard let maxSymbol = frequencies.lastIndex(where: { $0 > 0 }) else { return nil }
        var lengths = [UInt8](repeating: 0, count: maxSymbol + 1)
        guard Self.huffmanLengths(frequencies, maxSymbol: maxSymbol, into: &lengths) else { return nil }
        let maxBits = Int(lengths.max() ?? 0)
        // The tree description: weights of symbols 0..<maxSymbol (the last symbol's weight
        // follows from the others), FSE-compressed or 4 bits each, whichever is smaller.
        let weights = (0..<maxSymbol).map { Self.weight(lengths[$0], maxBits: maxBits) }
        var tree = Self.compressedWeights(weights) ?? []
        if maxSymbol <= 128 && (tree.isEmpty || tree.count > 1 + (maxSymbol + 1) / 2) {
            tree = [UInt8(127 + maxSymbol)]
            var index = 0
            while index < maxSymbol {
                tree.append(weights[index] << 4 | (index + 1 < maxSymbol ? weights[index + 1] : 0))
                index += 2
            }
        }
        guard !tree.isEmpty else { return nil }
        // Exact size of the coded literals, and the sections around them.
        var bits = 0
        for symbol in 0...maxSymbol { bits += frequencies[symbol] * Int(lengths[symbol]) }
        let fourStreams = count > 1023
        let headerSize = count <= 1023 ? 3 : (count <= 16383 ? 4 : 5)
        let estimate = headerSize + tree.count + (fourStreams ? 6 + 4 : 1) + bits / 8
        guard estimate < capacity else { return nil }
        var op = headerSize
        tree.withUnsafeBytes { (dest + op).copyMemory(from: $0.baseAddress.unsafelyUnwrapped, byteCount: $0.count) }
        op += tree.count

        // Canonical codes as the decoder assigns them: by weight, then symbol order.
        var codes = [UInt16](repeating: 0, count: maxSymbol + 1)
        var rankStart = [Int](repeating: 0, count: Self.maxHuffmanBits + 2)
        var weightCounts = [Int](repeating: 0, count: Self.maxHuffmanBits + 2)
        for symbol in 0...maxSymbol where lengths[symbol] > 0 {
            weightCounts[Int(Self.weight(lengths[symbol], maxBits: maxBits))] += 1
        }
        var next = 0
        for weight in 1...Self.maxHuffmanBits {
            rankStart[weight] = next
            next += weightCounts[weight] << (weight - 1)
        }
        for symbol in 0...maxSymbol where lengths[symbol] > 0 {
            let weight = Int(Self.weight(lengths[symbol], maxBits: maxBits))
            codes[symbol] = UInt16(rankStart[weight] >> (weight - 1))
            rankStart[weight] += 1 << (weight - 1)
        }

        let limit = capacity + 8
        let streamsSize: Int? = codes.withUnsafeBufferPointer { codes in
            lengths.withUnsafeBufferPointer { lengths in
                guard fourStreams else {
                    return Self.writeHuffmanStream(
                        literals, count: count, codes: codes, lengths: lengths, into: dest + op, capacity: limit - op)
                }
                let segment = (count + 3) / 4
                var at = op + 6
                for stream in 0..<4 {
                    let first = stream * segment
                    let symbols = stream == 3 ? count - 3 * segment : segment
                    guard limit - at > 8, let size = Self.writeHuffmanStream(
                        literals + first, count: symbols, codes: codes, lengths: lengths, into: dest + at, capacity: limit - at)
                    else { return nil }
                    if stream < 3 {
                        guard size <= 0xFFFF else { return nil }
                        dest.setLE16(UInt16(size), at: op + 2 * stream)
                    }
                    at += size
                }
                return at - op
            }
        }
        guard let streamsSize else { return nil }
        let total = op + streamsSize
        guard total < capacity else { return nil }
        // Header: type 2 (compressed), size format, regenerated and compressed sizes.
        let compressedSize = total - headerSize
        switch headerSize {
        case 3:
            let header = 2 | (fourStreams ? 1 : 0) << 2 | count << 4 | compressedSize << 14
            dest.setLE16(UInt16(truncatingIfNeeded: header), at: 0)
            dest.setByte(UInt8(truncatingIfNeeded: header >> 16), at: 2)
        case 4:
            dest.setLE32(UInt32(truncatingIfNeeded: 2 | 2 << 2 | count << 4 | compressedSize << 18), at: 0)
        default:
            let header = UInt64(2 | 3 << 2) | UInt64(count) << 4 | UInt64(compressedSize) << 22
            dest.setLE32(UInt32(truncatingIfNeeded: header), at: 0)
            dest.setByte(UInt8(truncatingIfNeeded: header >> 32), at: 4)
        }
        return total
    }

    /// The FSE-compressed form of Huffman weights (RFC 8878 §4.2.1.2): header byte (the size),
    /// table description and a bitstream of two interleaved states; nil when it does not apply
    /// (fewer than two weights or weight values, or a weight so common that a state would read
    /// no bits: the decoder stops at the first read past the stream's start, so every state
    /// must read at least one bit).
    static func compressedWeights(_ weights: [UInt8]) -> [UInt8]? {
        let count = weights.count
        guard count >= 2 else { return nil }
        var counts = [Int](repeating: 0, count: maxHuffmanBits + 1)
        for weight in weights { counts[Int(weight)] += 1 }
        guard let lastWeight = counts.lastIndex(where: { $0 > 0 }) else { return nil }
        let present = counts.filter { $0 > 0 }.count
        let log = ZstdFSEEncoder.accuracyLog(total: count, present: present, maxLog: 6)
        var probabilities = [Int16](repeating: 0, count: lastWeight + 1)
        let normalized = counts.withUnsafeBufferPointer { counts in
            probabilities.withUnsafeMutableBufferPointer { probabilities in
                ZstdFSEEncoder.normalize(
                    counts.baseAddress.unsafelyUnwrapped, symbolCount: lastWeight + 1, total: count, log: log,
                    into: probabilities.baseAddress.unsafelyUnwrapped)
            }
        }
        guard normalized, probabilities.allSatisfy({ Int($0) <= (1 << log) / 2 }) else { return nil }
        let table = probabilities.withUnsafeBufferPointer { ZstdFSEEncodingTable($0, accuracyLog: log) }
        var storage = [UInt8](repeating: 0, count: 256)
        let size: Int? = storage.withUnsafeMutableBytes { buffer in
            let base = buffer.baseAddress.unsafelyUnwrapped
            guard let descriptionSize = probabilities.withUnsafeBufferPointer({ probabilities in
                ZstdFSEEncoder.writeDescription(
                    probabilities.baseAddress.unsafelyUnwrapped, symbolCount: lastWeight + 1, log: log,
                    into: base + 1, capacity: 128)
            }) else { return nil }
            // The decoder takes even-indexed weights from state 1 and odd ones from state 2, in
            // turn, and the last two from the final states; encode backward from the third-last.
            var writer = ZstdBitWriter(base + 1 + descriptionSize, capacity: buffer.count - 1 - descriptionSize)
            let lastEven = count % 2 == 0 ? count - 2 : count - 1
            let lastOdd = count % 2 == 0 ? count - 1 : count - 2
            var state1 = table.initialState(Int(weights[lastEven]))
            var state2 = table.initialState(Int(weights[lastOdd]))
            var index = count - 3
            while index >= 0 {
                if index % 2 == 0 {
                    table.encode(&state1, Int(weights[index]), &writer)
                } else {
                    table.encode(&state2, Int(weights[index]), &writer)
                }
                writer.flush()
                index -= 1
            }
            table.finish(state2, &writer)
            table.finish(state1, &writer)
            writer.flush()
            guard let streamSize = writer.close() else { return nil }
            let total = descriptionSize + streamSize
            guard total < 128 else { return nil }
            base.setByte(UInt8(total), at: 0)
            return 1 + total
        }
        guard let size else { return nil }
        return Array(storage.prefix(size))
    }

    @inline(__always)
    private static func weight(_ length: UInt8, maxBits: Int) -> UInt8 {
        length == 0 ? 0 : UInt8(maxBits + 1 - Int(length))
    }

    /// One Huffman stream: symbols written last to first, so the backward reader meets them in order.
    private static func writeHuffmanStream(
        _ symbols: UnsafePointer<UInt8>, count: Int, codes: UnsafeBufferPointer<UInt16>,
        lengths: UnsafeBufferPointer<UInt8>, into dest: UnsafeMutableRawPointer, capacity: Int
    ) -> Int? {
        var writer = ZstdBitWriter(dest, capacity: capacity)
        var index = count
        // 4 symbols of at most 11 bits, plus up to 7 pending, fit the 64-bit container.
        while index >= 4 {
            for _ in 0..<4 {
                index -= 1
                let symbol = Int(symbols[index])
                writer.add(UInt64(codes[symbol]), Int(lengths[symbol]))
            }
            writer.flush()
        }
        while index > 0 {
            index -= 1
            let symbol = Int(symbols[index])
            writer.add(UInt64(codes[symbol]), Int(lengths[symbol]))
        }
        writer.flush()
        return writer.close()
    }

    /// Huffman code lengths (at most 11 bits, a complete code) for symbols `0...maxSymbol`;
    /// false when fewer than two symbols are present.
    static func huffmanLengths(_ frequencies: [Int], maxSymbol: Int, into lengths: inout [UInt8]) -> Bool {
        // Leaves, sorted by frequency (rarest first).
        var leaves: [(frequency: Int, symbol: Int)] = []
        for symbol in 0...maxSymbol where frequencies[symbol] > 0 {
            leaves.append((frequencies[symbol], symbol))
        }
        guard leaves.count >= 2 else { return false }
        leaves.sort { $0.frequency < $1.frequency || ($0.frequency == $1.frequency && $0.symbol < $1.symbol) }
        let leafCount = leaves.count
        // Two-queue Huffman: the sorted leaves, and the internal nodes, which are created in
        // order of weight; the two lightest fronts merge until one node remains.
        var parents = [Int](repeating: -1, count: 2 * leafCount - 1)
        var internalWeights: [Int] = []
        internalWeights.reserveCapacity(leafCount - 1)
        var nextLeaf = 0
        var nextNode = 0
        func pop() -> (node: Int, weight: Int) {
            let leafAvailable = nextLeaf < leafCount
            let nodeAvailable = nextNode < internalWeights.count
            if leafAvailable && (!nodeAvailable || leaves[nextLeaf].frequency <= internalWeights[nextNode]) {
                nextLeaf += 1
                return (nextLeaf - 1, leaves[nextLeaf - 1].frequency)
            }
            nextNode += 1
            return (leafCount + nextNode - 1, internalWeights[nextNode - 1])
        }
        for _ in 0..<(leafCount - 1) {
            let a = pop()
            let b = pop()
            let created = leafCount + internalWeights.count
            internalWeights.append(a.weight + b.weight)
            parents[a.node] = created
            parents[b.node] = created
        }
        // Depths: the root (last node) is 0; parents come after their children.
        let nodeCount = 2 * leafCount - 1
        var depths = [Int](repeating: 0, count: nodeCount)
        for node in stride(from: nodeCount - 2, through: 0, by: -1) {
            depths[node] = depths[parents[node]] + 1
        }
        // Codes per length, then limited to 11 bits while keeping the code complete: each step
        // drops one 11-bit code and splits the longest shorter code into two one bit longer.
        let maxLength = Self.maxHuffmanBits
        var perLength = [Int](repeating: 0, count: max(maxLength, depths.max() ?? 0) + 1)
        for leaf in 0..<leafCount { perLength[depths[leaf]] += 1 }
        if perLength.count > maxLength + 1 {
            for length in (maxLength + 1)..<perLength.count {
                perLength[maxLength] += perLength[length]
                perLength[length] = 0
            }
            var kraft = 0
            for length in 1...maxLength { kraft += perLength[length] << (maxLength - length) }
            while kraft > 1 << maxLength {
                perLength[maxLength] -= 1
                for length in stride(from: maxLength - 1, through: 1, by: -1) where perLength[length] > 0 {
                    perLength[length] -= 1
                    perLength[length + 1] += 2
                    break
                }
                kraft -= 1
            }
        }
        // Shortest codes to the most frequent symbols.
        var leaf = leafCount - 1
        for length in 1..<perLength.count {
            for _ in 0..<perLength[length] {
                lengths[leaves[leaf].symbol] = UInt8(length)
                leaf -= 1
            }
        }
        return true
    }
}
