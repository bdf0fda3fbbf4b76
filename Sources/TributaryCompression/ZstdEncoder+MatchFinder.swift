/// The LZ77 parse: a greedy match finder over a hash table of 5-byte sequences that also tries
/// the repeat offsets (RFC 8878 §3.1.1.5), as the decoder will track them.
extension ZstdEncoder {
    @inline(__always)
    private func hash(_ position: Int) -> Int {
        let value = input.le64(position) &<< 24
        return Int(truncatingIfNeeded: (value &* 0xCF1B_BCDC_B7A5_6463) &>> UInt64(truncatingIfNeeded: 64 - hashLog))
    }

    /// Number of equal bytes at `a` and `b` (with `a < b`), stopping at `end`.
    @inline(__always)
    private func commonLength(_ a: Int, _ b: Int, end: Int) -> Int {
        var length = 0
        while b + length + 8 <= end {
            let difference = input.le64(a + length) ^ input.le64(b + length)
            if difference != 0 { return length + difference.trailingZeroBitCount >> 3 }
            length += 8
        }
        while b + length < end && input.byte(a + length) == input.byte(b + length) { length += 1 }
        return length
    }

    /// Parses `start..<end` into sequences (literal length, offset value, match length) and
    /// the literals between them. Matches stay inside the block and reach back less than
    /// `window` bytes; `repeats` follows the decoder's repeat-offset updates.
    func findSequences(start: Int, end: Int, window: Int, repeats: inout (Int, Int, Int)) -> (sequences: Int, literals: Int) {
        var sequences = 0
        var literalCount = 0
        var anchor = start
        var position = start
        // Matches start where 8 bytes are left in the block: hashing and the first compare read 8.
        let searchEnd = end - 8
        let hashable = inputCount - 8
        let maxSequences = Self.maxSequences - 1
        var (repeat1, repeat2, repeat3) = repeats

        @inline(__always)
        func emit(literalLength: Int, offsetValue: Int, matchLength: Int) {
            if literalLength > 0 {
                (literals + literalCount).update(
                    from: (input + anchor).assumingMemoryBound(to: UInt8.self), count: literalLength)
                literalCount += literalLength
            }
            literalLengths[sequences] = UInt32(truncatingIfNeeded: literalLength)
            offsetValues[sequences] = UInt32(truncatingIfNeeded: offsetValue)
            matchLengths[sequences] = UInt32(truncatingIfNeeded: matchLength)
            sequences += 1
        }

        while position <= searchEnd && sequences < maxSequences {
            let slot = hash(position)
            let candidate = Int(hashTable[slot])
            hashTable[slot] = UInt32(truncatingIfNeeded: position)
            let current = input.le32(position)
            var matchStart = position
            if position > anchor && repeat1 <= position && input.le32(position - repeat1) == current {
                // Repeat offset 1; with literals before it, offset value 1 names it.
                let length = 4 + commonLength(position - repeat1 + 4, position + 4, end: end)
                emit(literalLength: position - anchor, offsetValue: 1, matchLength: length)
                position += length
            } else if candidate < position && position - candidate < window && input.le32(candidate) == current {
                var reference = candidate
                var length = 4 + commonLength(candidate + 4, position + 4, end: end)
                while matchStart > anchor && reference > 0 && input.byte(matchStart - 1) == input.byte(reference - 1) {
                    matchStart -= 1
                    reference -= 1
                    length += 1
                }
                // A distance the repeat offsets hold costs no offset bits (RFC 8878 §3.1.1.5).
                let distance = position - candidate
                let literalLength = matchStart - anchor
                let offsetValue: Int
                if literalLength > 0 && distance == repeat1 {
                    offsetValue = 1
                } else if distance == (literalLength > 0 ? repeat2 : repeat3) {
                    // Repeat offset 2 (3 without literals): it moves to the front.
                    offsetValue = 2
                    if literalLength == 0 { repeat3 = repeat2 }
                    repeat2 = repeat1
                    repeat1 = distance
                } else if distance == (literalLength > 0 ? repeat3 : repeat2) {
                    // Repeat offset 3 (2 without literals): it moves to the front.
                    offsetValue = literalLength > 0 ? 3 : 1
                    if literalLength > 0 { repeat3 = repeat2 }
                    repeat2 = repeat1
                    repeat1 = distance
                } else {
                    // A new offset (offset value 3 without literals would mean repeat offset 1 - 1).
                    offsetValue = literalLength == 0 && distance == repeat1 - 1 ? 3 : distance + 3
                    repeat3 = repeat2
                    repeat2 = repeat1
                    repeat1 = distance
                }
                emit(literalLength: literalLength, offsetValue: offsetValue, matchLength: length)
                position = matchStart + length
            } else {
                // Skip faster through data that does not match.
                position += 1 + ((position - anchor) >> 7)
                continue
            }
            anchor = position
            // Index two positions inside the match so the next similar stretch finds it.
            if matchStart + 2 <= hashable && matchStart + 2 < position {
                hashTable[hash(matchStart + 2)] = UInt32(truncatingIfNeeded: matchStart + 2)
            }
            if position - 2 <= hashable {
                hashTable[hash(position - 2)] = UInt32(truncatingIfNeeded: position - 2)
            }
            // Right after a match, repeat offset 2 without literals (offset value 1 then names it).
            while position <= searchEnd && sequences < maxSequences && repeat2 <= position
                && input.le32(position - repeat2) == input.le32(position)
            {
                let length = 4 + commonLength(position - repeat2 + 4, position + 4, end: end)
                emit(literalLength: 0, offsetValue: 1, matchLength: length)
                swap(&repeat1, &repeat2)
                if position <= hashable {
                    hashTable[hash(position)] = UInt32(truncatingIfNeeded: position)
                }
                position += length
                anchor = position
            }
        }
        let rest = end - anchor
        if rest > 0 {
            (literals + literalCount).update(from: (input + anchor).assumingMemoryBound(to: UInt8.self), count: rest)
            literalCount += rest
        }
        repeats = (repeat1, repeat2, repeat3)
        return (sequences, literalCount)
    }
}
