/// One state of an FSE decoding table: the symbol it decodes and how to reach the next state
/// (read `bits` bits and add them to `baseline`).
struct FSEEntry {
    var symbol: UInt8 = 0
    var bits: UInt8 = 0
    var baseline: UInt16 = 0
}

/// A state of a sequence decoding table: FSE transition plus the code's value and extra bits
/// (RFC 8878 §3.1.1.3.2.1 code tables folded in).
struct SequenceEntry {
    var baseline: UInt16 = 0
    var bits: UInt8 = 0
    var extraBits: UInt8 = 0
    var value: UInt32 = 0
}

/// FSE table descriptions and decoding tables (RFC 8878 §4.1).
enum ZstdFSE {
    /// Reads an FSE table description (RFC 8878 §4.1.1) into `probabilities`.
    /// Returns the accuracy log, the number of symbols described and the bytes used.
    static func readDistribution(
        _ src: UnsafeRawPointer, count n: Int, maxAccuracyLog: Int, maxSymbol: Int,
        into probabilities: UnsafeMutablePointer<Int16>, inputOffset: Int
    ) throws(CompressionError) -> (accuracyLog: Int, symbolCount: Int, size: Int) {
        guard n >= 1 else { throw .truncated(.zstd, "an FSE table description is missing", at: inputOffset) }
        var bitPosition = 0
        // Reads `bits` (<= 25) bits forward, little-endian; bytes past the end read as zero.
        func peek(_ bits: Int) -> Int {
            let byteIndex = bitPosition >> 3
            var value: UInt64 = 0
            if byteIndex + 8 <= n {
                value = src.le64(byteIndex)
            } else {
                var index = byteIndex
                while index < n {
                    value |= UInt64(src.byte(index)) << (8 * (index - byteIndex))
                    index += 1
                }
            }
            return Int((value >> UInt64(bitPosition & 7)) & ((1 << UInt64(bits)) - 1))
        }
        let accuracyLog = peek(4) + 5
        bitPosition = 4
        guard accuracyLog <= maxAccuracyLog else {
            throw .corrupt(.zstd, "FSE accuracy log \(accuracyLog) exceeds the maximum \(maxAccuracyLog)", at: inputOffset)
        }
        var remaining = (1 << accuracyLog) + 1
        var threshold = 1 << accuracyLog
        var bitCount = accuracyLog + 1
        var symbol = 0
        while remaining > 1 {
            guard symbol <= maxSymbol else {
                throw .corrupt(.zstd, "an FSE table describes more than \(maxSymbol + 1) symbols", at: inputOffset)
            }
            let maxValue = 2 * threshold - 1 - remaining
            var value = peek(bitCount - 1)
            if value < maxValue {
                bitPosition += bitCount - 1
            } else {
                value = peek(bitCount)
                if value >= threshold { value -= maxValue }
                bitPosition += bitCount
            }
            let probability = value - 1
            probabilities[symbol] = Int16(probability)
            symbol += 1
            remaining -= probability < 0 ? 1 : probability
            if probability == 0 {
                // Runs of zero probabilities: 2-bit repeat counts, continued while they read 3.
                var flag = 3
                while flag == 3 {
                    flag = peek(2)
                    bitPosition += 2
                    guard symbol + flag <= maxSymbol + 1, bitPosition <= 8 * n else {
                        throw .corrupt(.zstd, "an FSE table's zero-probability run overruns the table", at: inputOffset)
                    }
                    for _ in 0..<flag {
                        probabilities[symbol] = 0
                        symbol += 1
                    }
                }
            }
            while remaining < threshold {
                bitCount -= 1
                threshold >>= 1
            }
            guard bitPosition <= 8 * n else {
                throw .truncated(.zstd, "an FSE table description is cut off", at: inputOffset + n)
            }
        }
        guard remaining == 1 else { throw .corrupt(.zstd, "FSE probabilities do not add up", at: inputOffset) }
        // RFC 8878 §4.1.1: two or more symbols have a non-zero probability (one symbol is RLE mode).
        var present = 0
        for index in 0..<symbol where probabilities[index] != 0 { present += 1 }
        guard present >= 2 else {
            throw .corrupt(.zstd, "an FSE table description with a single symbol (the format requires two or more)", at: inputOffset)
        }
        return (accuracyLog, symbol, (bitPosition + 7) >> 3)
    }

    /// Builds the decoding table for a normalized distribution (RFC 8878 §4.1.1,
    /// "From normalized distribution to decoding tables"). `next` needs room for `symbolCount`
    /// counters. Returns false if the distribution does not fill the table exactly.
    static func buildTable(
        _ probabilities: UnsafePointer<Int16>, symbolCount: Int, accuracyLog: Int,
        into table: UnsafeMutablePointer<FSEEntry>, next: UnsafeMutablePointer<UInt16>
    ) -> Bool {
        let size = 1 << accuracyLog
        var high = size - 1
        var total = 0
        for symbol in 0..<symbolCount {
            let probability = Int(probabilities[symbol])
            if probability == -1 {
                guard high >= 0 else { return false }
                table[high].symbol = UInt8(truncatingIfNeeded: symbol)
                high -= 1
                next[symbol] = 1
                total += 1
            } else {
                next[symbol] = UInt16(max(probability, 0))
                total += max(probability, 0)
            }
        }
        guard total == size else { return false }
        let step = (size >> 1) + (size >> 3) + 3
        let mask = size - 1
        var position = 0
        for symbol in 0..<symbolCount {
            let probability = Int(probabilities[symbol])
            guard probability > 0 else { continue }
            for _ in 0..<probability {
                table[position].symbol = UInt8(truncatingIfNeeded: symbol)
                repeat { position = (position + step) & mask } while position > high
            }
        }
        guard position == 0 else { return false }
        for state in 0..<size {
            let symbol = Int(table[state].symbol)
            let x = Int(next[symbol])
            next[symbol] += 1
            let bits = accuracyLog - (Int.bitWidth - 1 - x.leadingZeroBitCount)
            table[state].bits = UInt8(bits)
            table[state].baseline = UInt16((x << bits) - size)
        }
        return true
    }
}
