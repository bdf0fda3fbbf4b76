/// FSE on the compressing side (RFC 8878 §4.1): normalizing symbol counts to a power-of-two
/// total, writing the table description the decoder reads, and the encoding table.
struct ZstdFSEEncodingTable {
    private(set) var accuracyLog = 0
    /// Next-state values (table size + spread position), grouped by symbol.
    private var states = [UInt16](repeating: 0, count: 512)
    /// Per symbol: `(maxBitsOut << 16) - minStatePlus`, from which a state's bit count follows.
    private var deltaBits = [Int32](repeating: 0, count: 64)
    /// Per symbol: where its states start in `states`, minus its probability.
    private var deltaFind = [Int32](repeating: 0, count: 64)

    init() {}

    /// Builds the table for `probabilities` (each >= -1, summing to `1 << accuracyLog` with -1
    /// counted as 1), symbols `0..<probabilities.count` (at most 64, `accuracyLog` at most 9).
    /// The spread is the decoder's (RFC 8878 §4.1.1, "From normalized distribution to decoding tables").
    init(_ probabilities: UnsafeBufferPointer<Int16>, accuracyLog log: Int) {
        build(probabilities, accuracyLog: log)
    }

    mutating func build(_ probabilities: UnsafeBufferPointer<Int16>, accuracyLog log: Int) {
        accuracyLog = log
        let size = 1 << log
        let symbolCount = probabilities.count
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: size) { spread in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: symbolCount + 1) { cumulative in
                var high = size - 1
                cumulative[0] = 0
                for symbol in 0..<symbolCount {
                    let probability = Int(probabilities[symbol])
                    if probability == -1 {
                        cumulative[symbol + 1] = cumulative[symbol] + 1
                        spread[high] = UInt8(truncatingIfNeeded: symbol)
                        high -= 1
                    } else {
                        cumulative[symbol + 1] = cumulative[symbol] + max(probability, 0)
                    }
                }
                let step = (size >> 1) + (size >> 3) + 3
                let mask = size - 1
                var position = 0
                for symbol in 0..<symbolCount {
                    let probability = Int(probabilities[symbol])
                    guard probability > 0 else { continue }
                    for _ in 0..<probability {
                        spread[position] = UInt8(truncatingIfNeeded: symbol)
                        repeat { position = (position + step) & mask } while position > high
                    }
                }
                states.withUnsafeMutableBufferPointer { states in
                    // cumulative[symbol] walks through the symbol's slots as its states appear in spread order.
                    var next = [Int](repeating: 0, count: symbolCount)
                    for symbol in 0..<symbolCount { next[symbol] = cumulative[symbol] }
                    for index in 0..<size {
                        let symbol = Int(spread[index])
                        states[next[symbol]] = UInt16(size + index)
                        next[symbol] += 1
                    }
                }
                for symbol in 0..<symbolCount {
                    let total = cumulative[symbol]
                    let probability = Int(probabilities[symbol])
                    switch probability {
                    case 0:
                        deltaBits[symbol] = Int32(((log + 1) << 16) - size)
                        deltaFind[symbol] = 0
                    case -1, 1:
                        deltaBits[symbol] = Int32((log << 16) - size)
                        deltaFind[symbol] = Int32(total - 1)
                    default:
                        let maxBitsOut = log - (Int.bitWidth - 1 - (probability - 1).leadingZeroBitCount)
                        deltaBits[symbol] = Int32((maxBitsOut << 16) - (probability << maxBitsOut))
                        deltaFind[symbol] = Int32(total - probability)
                    }
                }
            }
        }
    }

    /// The table through raw pointers for hot loops; an inactive coder (RLE mode) writes nothing.
    struct Coder {
        let states: UnsafePointer<UInt16>
        let deltaBits: UnsafePointer<Int32>
        let deltaFind: UnsafePointer<Int32>
        let accuracyLog: Int
        let active: Bool

        @inline(__always)
        func initialState(_ symbol: Int) -> Int {
            guard active else { return 0 }
            let delta = Int(deltaBits[symbol])
            let bits = (delta + (1 << 15)) >> 16
            let value = (bits << 16) - delta
            return Int(states[(value >> bits) + Int(deltaFind[symbol])])
        }

        @inline(__always)
        func encode(_ state: inout Int, _ symbol: Int, _ writer: inout ZstdBitWriter) {
            guard active else { return }
            let bits = (state + Int(deltaBits[symbol])) >> 16
            writer.add(UInt64(truncatingIfNeeded: state), bits)
            state = Int(states[(state >> bits) + Int(deltaFind[symbol])])
        }

        @inline(__always)
        func finish(_ state: Int, _ writer: inout ZstdBitWriter) {
            guard active else { return }
            writer.add(UInt64(truncatingIfNeeded: state), accuracyLog)
        }
    }

    func withCoder<R>(active: Bool, _ body: (Coder) -> R) -> R {
        states.withUnsafeBufferPointer { states in
            deltaBits.withUnsafeBufferPointer { deltaBits in
                deltaFind.withUnsafeBufferPointer { deltaFind in
                    body(Coder(
                        states: states.baseAddress.unsafelyUnwrapped, deltaBits: deltaBits.baseAddress.unsafelyUnwrapped,
                        deltaFind: deltaFind.baseAddress.unsafelyUnwrapped, accuracyLog: accuracyLog, active: active))
                }
            }
        }
    }

    /// The first state for `symbol`, the one the decoder ends on (it costs no bits to enter).
    @inline(__always)
    func initialState(_ symbol: Int) -> Int {
        let delta = Int(deltaBits[symbol])
        let bits = (delta + (1 << 15)) >> 16
        let value = (bits << 16) - delta
        return Int(states[(value >> bits) + Int(deltaFind[symbol])])
    }

    /// Encodes `symbol` from `state`: writes the state's low bits and moves to the next state.
    @inline(__always)
    func encode(_ state: inout Int, _ symbol: Int, _ writer: inout ZstdBitWriter) {
        let bits = (state + Int(deltaBits[symbol])) >> 16
        writer.add(UInt64(truncatingIfNeeded: state), bits)
        state = Int(states[(state >> bits) + Int(deltaFind[symbol])])
    }

    /// Writes the final state, which the decoder reads first.
    @inline(__always)
    func finish(_ state: Int, _ writer: inout ZstdBitWriter) {
        writer.add(UInt64(truncatingIfNeeded: state), accuracyLog)
    }
}

enum ZstdFSEEncoder {
    /// The accuracy log for `total` samples of `present` distinct symbols, at most `maxLog`.
    static func accuracyLog(total: Int, present: Int, maxLog: Int) -> Int {
        var log = max(5, (Int.bitWidth - (total - 1).leadingZeroBitCount) - 2)
        log = min(log, maxLog)
        while (1 << log) < 2 * present && log < maxLog { log += 1 }
        return log
    }

    /// Scales `counts` (total `total`, at least two symbols present) to probabilities summing
    /// to `1 << log`; every present symbol gets at least 1. Returns false when the table is too
    /// small for the symbols present.
    static func normalize(
        _ counts: UnsafePointer<Int>, symbolCount: Int, total: Int, log: Int, into probabilities: UnsafeMutablePointer<Int16>
    ) -> Bool {
        let size = 1 << log
        var present = 0
        var sum = 0
        var largest = -1
        for symbol in 0..<symbolCount {
            let count = counts[symbol]
            guard count > 0 else {
                probabilities[symbol] = 0
                continue
            }
            present += 1
            let scaled = max(1, (count * size + total / 2) / total)
            probabilities[symbol] = Int16(scaled)
            sum += scaled
            if largest < 0 || scaled > Int(probabilities[largest]) { largest = symbol }
        }
        guard present >= 2, present <= size, largest >= 0 else { return false }
        // Fix the rounding: a surplus goes to the most probable symbol; a deficit is taken from
        // the most probable symbols, a quarter of the current maximum at a time.
        var difference = size - sum
        if difference > 0 { probabilities[largest] += Int16(difference) }
        while difference < 0 {
            var top = -1
            for symbol in 0..<symbolCount where probabilities[symbol] > 1 {
                if top < 0 || probabilities[symbol] > probabilities[top] { top = symbol }
            }
            guard top >= 0 else { return false }
            let take = min(-difference, max(1, Int(probabilities[top]) / 4), Int(probabilities[top]) - 1)
            probabilities[top] -= Int16(take)
            difference += take
        }
        return true
    }

    /// Writes the FSE table description (RFC 8878 §4.1.1) of `probabilities` (symbols
    /// `0..<symbolCount`, the last one present) at `dest`; returns the bytes written, or nil
    /// when `capacity` is too small. Stores up to 8 bytes at a time, all within `capacity`.
    static func writeDescription(
        _ probabilities: UnsafePointer<Int16>, symbolCount: Int, log: Int, into dest: UnsafeMutableRawPointer, capacity: Int
    ) -> Int? {
        var writer = ZstdBitWriter(dest, capacity: capacity)
        writer.add(UInt64(log - 5), 4)
        var remaining = (1 << log) + 1
        var threshold = 1 << log
        var bitCount = log + 1
        var symbol = 0
        while remaining > 1 && symbol < symbolCount {
            let probability = Int(probabilities[symbol])
            let value = probability + 1
            let maxValue = 2 * threshold - 1 - remaining
            if value < maxValue {
                writer.add(UInt64(value), bitCount - 1)
            } else if value < threshold {
                writer.add(UInt64(value), bitCount)
            } else {
                writer.add(UInt64(value + maxValue), bitCount)
            }
            writer.flush()
            symbol += 1
            remaining -= probability < 0 ? 1 : probability
            if probability == 0 {
                var zeros = 0
                while symbol + zeros < symbolCount && probabilities[symbol + zeros] == 0 { zeros += 1 }
                symbol += zeros
                while zeros >= 3 {
                    writer.add(3, 2)
                    writer.flush()
                    zeros -= 3
                }
                writer.add(UInt64(zeros), 2)
                writer.flush()
            }
            while remaining < threshold {
                bitCount -= 1
                threshold >>= 1
            }
        }
        guard remaining == 1, !writer.overflowed else { return nil }
        // Whole bytes: the description ends on a byte boundary, any unused bits zero.
        let bits = writer.bitCount
        writer.flush()
        if writer.overflowed { return nil }
        return (bits + 7) >> 3
    }
}

extension ZstdBitWriter {
    /// Bits written so far (flushed and pending).
    var bitCount: Int { position * 8 + pendingBits }
}
