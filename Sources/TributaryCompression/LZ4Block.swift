/// The LZ4 block format (lz4 `doc/lz4_Block_format.md`): sequences of a token, literals,
/// a 2-byte offset and a match length; the last sequence holds only literals.
///
/// The encoder is a single-probe hash matcher written for this package, with the block
/// format's end rules: the last match starts at least 12 bytes before the end and the last
/// 5 bytes are literals.
enum LZ4Block {
    static let minMatch = 4
    /// The last match must start at least this many bytes before the end of the block.
    private static let matchFindLimit = 12
    /// The last bytes of a block are always literals.
    private static let lastLiterals = 5
    static let maxOffset = 65535
    static let hashBits = 13

    /// The largest block `compress` can write for `count` input bytes.
    static func maxCompressedLength(_ count: Int) -> Int { count + count / 255 + 16 }

    @inline(__always)
    private static func hash(_ value: UInt32) -> Int {
        Int((value &* 2_654_435_761) &>> UInt32(32 - hashBits))
    }

    /// Compresses `count` bytes at `src` into `dst` (room for `maxCompressedLength(count)`),
    /// returning the compressed size. `table` holds `1 << hashBits` entries and is reset here.
    static func compress(
        _ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutableRawPointer, table: UnsafeMutablePointer<Int32>
    ) -> Int {
        var op = 0
        var anchor = 0
        if count >= matchFindLimit + 1 {
            table.update(repeating: -1, count: 1 << hashBits)
            let matchLimit = count - matchFindLimit  // a match may start before this
            let extendLimit = count - lastLiterals   // and may not reach past this
            var ip = 0
            search: while true {
                var step = 1 << 6
                var candidate: Int
                // Find a match; the step grows every 64 misses so incompressible data is skipped fast.
                while true {
                    let sequence = src.le32(ip)
                    let slot = hash(sequence)
                    candidate = Int(table[slot])
                    table[slot] = Int32(ip)
                    if candidate >= 0 && ip - candidate <= maxOffset && src.le32(candidate) == sequence { break }
                    ip += step >> 6
                    step += 1
                    if ip >= matchLimit { break search }
                }
                // Extend backwards over bytes not yet emitted.
                while ip > anchor && candidate > 0 && src.byte(ip - 1) == src.byte(candidate - 1) {
                    ip -= 1
                    candidate -= 1
                }
                while true {
                    let matched = minMatch + SnappyRaw.matchLength(src, candidate + minMatch, ip + minMatch, extendLimit)
                    op = emitSequence(src, literalsFrom: anchor, literalCount: ip - anchor,
                                      offset: ip - candidate, matchLength: matched, into: dst, at: op)
                    ip += matched
                    anchor = ip
                    if ip >= matchLimit { break search }
                    table[hash(src.le32(ip - 2))] = Int32(ip - 2)
                    // Try an immediate follow-up match before going back to searching.
                    let sequence = src.le32(ip)
                    let slot = hash(sequence)
                    candidate = Int(table[slot])
                    table[slot] = Int32(ip)
                    if !(candidate >= 0 && ip - candidate <= maxOffset && src.le32(candidate) == sequence) { break }
                }
                ip += 1
                if ip >= matchLimit { break }
            }
        }
        // Last literals.
        let literalCount = count - anchor
        op = writeLength(literalCount, tokenShift: 4, matchPart: 0, into: dst, at: op)
        (dst + op).copyMemory(from: src + anchor, byteCount: literalCount)
        return op + literalCount
    }

    /// Writes a token whose literal length is `length` (extension bytes included) and returns the new position.
    @inline(__always)
    private static func writeLength(_ length: Int, tokenShift: Int, matchPart: UInt8, into dst: UnsafeMutableRawPointer, at start: Int) -> Int {
        var op = start
        if length < 15 {
            dst.setByte(UInt8(length << tokenShift) | matchPart, at: op)
            return op + 1
        }
        dst.setByte(UInt8(15 << tokenShift) | matchPart, at: op)
        op += 1
        op = writeExtension(length - 15, into: dst, at: op)
        return op
    }

    @inline(__always)
    private static func writeExtension(_ value: Int, into dst: UnsafeMutableRawPointer, at start: Int) -> Int {
        var op = start
        var rest = value
        while rest >= 255 {
            dst.setByte(255, at: op)
            op += 1
            rest -= 255
        }
        dst.setByte(UInt8(rest), at: op)
        return op + 1
    }

    @inline(__always)
    private static func emitSequence(
        _ src: UnsafeRawPointer, literalsFrom anchor: Int, literalCount: Int, offset: Int, matchLength: Int,
        into dst: UnsafeMutableRawPointer, at start: Int
    ) -> Int {
        let matchCode = matchLength - minMatch
        let matchNibble = UInt8(min(matchCode, 15))
        var op = writeLength(literalCount, tokenShift: 4, matchPart: matchNibble, into: dst, at: start)
        (dst + op).copyMemory(from: src + anchor, byteCount: literalCount)
        op += literalCount
        dst.setLE16(UInt16(offset), at: op)
        op += 2
        if matchCode >= 15 { op = writeExtension(matchCode - 15, into: dst, at: op) }
        return op
    }

    /// Decodes one block from `src` into `base`, starting at `op`, writing no further than `writeEnd`.
    /// Matches may reach back to `windowStart`. Returns the new end, or the failure; the failure
    /// for running past `writeEnd` is `overflowError`.
    static func decompress(
        _ src: UnsafeRawPointer, count n: Int, inputOffset: Int,
        into base: UnsafeMutableRawPointer, at start: Int, writeEnd: Int, bufferEnd: Int, windowStart: Int,
        overflowError: CompressionError
    ) -> Result<Int, CompressionError> {
        var ip = 0
        var op = start
        while true {
            guard ip < n else { return .failure(.truncated(.lz4, "a block ends before its last literals", at: inputOffset + ip)) }
            let token = src.byte(ip)
            ip += 1
            var literals = Int(token >> 4)
            if literals == 15 {
                while true {
                    guard ip < n else { return .failure(.truncated(.lz4, "a literal length is cut off", at: inputOffset + ip)) }
                    let byte = src.byte(ip)
                    ip += 1
                    literals += Int(byte)
                    if byte != 255 { break }
                }
            }
            guard literals <= n - ip else {
                return .failure(.corrupt(.lz4, "\(literals) literals run past the end of the block", at: inputOffset + ip))
            }
            guard literals <= writeEnd - op else { return .failure(overflowError) }
            copyLiterals(base, at: op, from: src, ip, length: literals, sourceSlack: n - ip >= 16, bufferEnd: bufferEnd)
            op += literals
            ip += literals
            if ip == n { return .success(op) }  // the last sequence has no match

            guard n - ip >= 2 else { return .failure(.truncated(.lz4, "a match offset is cut off", at: inputOffset + ip)) }
            let offset = Int(src.le16(ip))
            ip += 2
            guard offset > 0 && offset <= op - windowStart else {
                return .failure(.corrupt(.lz4, "match offset \(offset) points before the start of the data", at: inputOffset + ip - 2))
            }
            var length = Int(token & 15)
            if length == 15 {
                while true {
                    guard ip < n else { return .failure(.truncated(.lz4, "a match length is cut off", at: inputOffset + ip)) }
                    let byte = src.byte(ip)
                    ip += 1
                    length += Int(byte)
                    if byte != 255 { break }
                }
            }
            length += minMatch
            guard length <= writeEnd - op else { return .failure(overflowError) }
            copyMatch(base, at: op, offset: offset, length: length, bufferEnd: bufferEnd)
            op += length
        }
    }
}
