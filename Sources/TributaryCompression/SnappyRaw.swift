/// The raw Snappy format (google/snappy `format_description.txt`): a varint holding the
/// uncompressed length, then a series of literal and copy elements.
///
/// The encoder is an LZ77 matcher written for this package: it hashes 4-byte sequences into a
/// table of recent positions, checks candidates, extends matches 8 bytes at a time, and
/// skips ahead faster through data that does not match (incompressible input costs little).
/// Input is cut into 64 KiB fragments, so every copy offset fits in two bytes.
enum SnappyRaw {
    /// Fragment size; copies never cross a fragment, so offsets stay below 65536.
    static let fragmentSize = 1 << 16
    private static let maxTableBits = 14
    /// Matching stops this many bytes before a fragment's end so 4- and 8-byte loads stay in bounds.
    private static let inputMargin = 15
    /// The most output a snappy element can produce per input byte (a 3-byte copy making 64 bytes).
    static let maxExpansion = 22

    /// The largest raw stream `compress` can write for `count` input bytes.
    static func maxCompressedLength(_ count: Int) -> Int { 32 + count + count / 6 }

    /// Writes the raw snappy form of `count` bytes at `source` to `dest`, which must have room for
    /// `maxCompressedLength(count)` bytes; returns the bytes written. `count` must fit in 32 bits.
    static func compress(
        _ source: UnsafeRawPointer?, count: Int, into dest: UnsafeMutableRawPointer, table: UnsafeMutablePointer<UInt16>
    ) -> Int {
        var op = 0
        var length = UInt32(count)
        while length >= 0x80 {
            dest.setByte(UInt8(truncatingIfNeeded: length) | 0x80, at: op)
            length >>= 7
            op += 1
        }
        dest.setByte(UInt8(length), at: op)
        op += 1
        guard let source else { return op }
        var fragmentStart = 0
        while fragmentStart < count {
            let fragmentLength = min(count - fragmentStart, fragmentSize)
            op = compressFragment(source + fragmentStart, fragmentLength, dest, op, table)
            fragmentStart += fragmentLength
        }
        return op
    }

    @inline(__always)
    private static func hash(_ value: UInt32, _ shift: UInt32) -> Int {
        Int((value &* 0x1E35_A7BD) &>> shift)
    }

    private static func compressFragment(
        _ src: UnsafeRawPointer, _ count: Int, _ dst: UnsafeMutableRawPointer, _ start: Int,
        _ table: UnsafeMutablePointer<UInt16>
    ) -> Int {
        var op = start
        var anchor = 0
        if count >= inputMargin {
            var tableBits = 8
            while tableBits < maxTableBits && (1 << tableBits) < count { tableBits += 1 }
            table.update(repeating: 0, count: 1 << tableBits)
            let shift = UInt32(32 - tableBits)
            let ipLimit = count - inputMargin
            var ip = 1
            var nextHash = hash(src.le32(ip), shift)
            search: while true {
                // Look for a 4-byte match, stepping further the longer nothing matches.
                var skip = 32
                var nextIP = ip
                var candidate = 0
                repeat {
                    ip = nextIP
                    let currentHash = nextHash
                    nextIP = ip + (skip >> 5)
                    skip += 1
                    if nextIP > ipLimit { break search }
                    nextHash = hash(src.le32(nextIP), shift)
                    candidate = Int(table[currentHash])
                    table[currentHash] = UInt16(truncatingIfNeeded: ip)
                } while src.le32(ip) != src.le32(candidate)

                op = emitLiteral(src, from: anchor, count: ip - anchor, into: dst, at: op)
                // Emit copies for as long as another match starts right where the last one ended.
                repeat {
                    let matched = 4 + matchLength(src, candidate + 4, ip + 4, count)
                    op = emitCopy(offset: ip - candidate, length: matched, into: dst, at: op)
                    ip += matched
                    anchor = ip
                    if ip >= ipLimit { break search }
                    table[hash(src.le32(ip - 1), shift)] = UInt16(truncatingIfNeeded: ip - 1)
                    let currentHash = hash(src.le32(ip), shift)
                    candidate = Int(table[currentHash])
                    table[currentHash] = UInt16(truncatingIfNeeded: ip)
                } while src.le32(ip) == src.le32(candidate)
                ip += 1
                nextHash = hash(src.le32(ip), shift)
            }
        }
        if anchor < count {
            op = emitLiteral(src, from: anchor, count: count - anchor, into: dst, at: op)
        }
        return op
    }

    /// How many bytes match at `a` and `b` (a < b), comparing no further than `limit`.
    @inline(__always)
    static func matchLength(_ src: UnsafeRawPointer, _ a: Int, _ b: Int, _ limit: Int) -> Int {
        var length = 0
        while b + length + 8 <= limit {
            let diff = src.le64(a + length) ^ src.le64(b + length)
            if diff != 0 { return length + diff.trailingZeroBitCount >> 3 }
            length += 8
        }
        while b + length < limit && src.byte(a + length) == src.byte(b + length) { length += 1 }
        return length
    }

    private static func emitLiteral(
        _ src: UnsafeRawPointer, from: Int, count: Int, into dst: UnsafeMutableRawPointer, at start: Int
    ) -> Int {
        var op = start
        let n = count - 1
        if n < 60 {
            dst.setByte(UInt8(n << 2), at: op)
            op += 1
        } else if n < 1 << 8 {
            dst.setByte(60 << 2, at: op)
            dst.setByte(UInt8(n), at: op + 1)
            op += 2
        } else if n < 1 << 16 {
            dst.setByte(61 << 2, at: op)
            dst.setLE16(UInt16(n), at: op + 1)
            op += 3
        } else if n < 1 << 24 {
            dst.setByte(62 << 2, at: op)
            dst.setLE16(UInt16(truncatingIfNeeded: n), at: op + 1)
            dst.setByte(UInt8(truncatingIfNeeded: n >> 16), at: op + 3)
            op += 4
        } else {
            dst.setByte(63 << 2, at: op)
            dst.setLE32(UInt32(truncatingIfNeeded: n), at: op + 1)
            op += 5
        }
        (dst + op).copyMemory(from: src + from, byteCount: count)
        return op + count
    }

    private static func emitCopy(offset: Int, length: Int, into dst: UnsafeMutableRawPointer, at start: Int) -> Int {
        var op = start
        var remaining = length
        // Split long matches into 64-byte copies, never leaving a remainder under 4.
        while remaining >= 68 {
            op = emitShortCopy(offset: offset, length: 64, into: dst, at: op)
            remaining -= 64
        }
        if remaining > 64 {
            op = emitShortCopy(offset: offset, length: 60, into: dst, at: op)
            remaining -= 60
        }
        return emitShortCopy(offset: offset, length: remaining, into: dst, at: op)
    }

    @inline(__always)
    private static func emitShortCopy(offset: Int, length: Int, into dst: UnsafeMutableRawPointer, at op: Int) -> Int {
        if length < 12 && offset < 2048 {
            // Copy with 1-byte offset: 3 length bits (4...11), 11 offset bits.
            dst.setByte(UInt8(1 | ((length - 4) << 2) | ((offset >> 8) << 5)), at: op)
            dst.setByte(UInt8(truncatingIfNeeded: offset), at: op + 1)
            return op + 2
        }
        // Copy with 2-byte offset: 6 length bits (1...64).
        dst.setByte(UInt8(2 | ((length - 1) << 2)), at: op)
        dst.setLE16(UInt16(offset), at: op + 1)
        return op + 3
    }

    /// Decodes one whole raw snappy stream, appending it to `output` through `out`.
    /// `inputOffset` is where `input` sits in the caller's buffer (for error offsets).
    static func decompress(
        _ input: UnsafeRawBufferPointer, inputOffset: Int, output: inout [UInt8], out: inout BoundedOutput
    ) throws(CompressionError) {
        let n = input.count
        guard let src = input.baseAddress, n > 0 else {
            throw .truncated(.snappy, "empty snappy stream: the uncompressed length is missing", at: inputOffset)
        }
        var ip = 0
        var declared: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard ip < n else { throw .truncated(.snappy, "the uncompressed-length varint is cut off", at: inputOffset + ip) }
            let byte = src.byte(ip)
            ip += 1
            declared |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { break }
            shift += 7
            guard shift < 35 else { throw .corrupt(.snappy, "the uncompressed-length varint is longer than 5 bytes", at: inputOffset) }
        }
        guard declared <= UInt64(UInt32.max) else {
            throw .corrupt(.snappy, "declared uncompressed length \(declared) exceeds 4 GiB", at: inputOffset)
        }
        let length = Int(declared)
        guard length <= out.remainingLimit else { throw .limitExceeded(.snappy, limit: out.limit, at: inputOffset) }
        guard length <= (n - ip) * maxExpansion else {
            throw .corrupt(.snappy, "declared uncompressed length \(length) is more than \(n - ip) compressed bytes can hold", at: inputOffset)
        }
        let start = out.end
        let opEnd = start + length
        out.reserve(&output, length)
        let result: Result<Int, CompressionError> = output.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress.map(UnsafeMutableRawPointer.init) else {
                // Nothing may be written (declared length 0): any element left over is an error.
                return ip == n ? .success(start) : .failure(.corrupt(.snappy, "elements follow a zero declared length", at: inputOffset + ip))
            }
            let bufferEnd = buffer.count
            var op = start
            while ip < n {
                let tag = src.byte(ip)
                ip += 1
                let copyLength: Int
                let copyOffset: Int
                switch tag & 3 {
                case 0:
                    var literal = Int(tag >> 2) + 1
                    if literal > 60 {
                        let extra = literal - 60
                        guard n - ip >= extra else {
                            return .failure(.truncated(.snappy, "literal length bytes are cut off", at: inputOffset + ip))
                        }
                        var value = 0
                        for index in 0..<extra { value |= Int(src.byte(ip + index)) << (8 * index) }
                        ip += extra
                        literal = value + 1
                    }
                    guard literal <= n - ip else {
                        return .failure(.truncated(.snappy, "a \(literal)-byte literal runs past the end of the input", at: inputOffset + ip))
                    }
                    guard literal <= opEnd - op else {
                        return .failure(.corrupt(.snappy, "a literal runs past the declared length \(length)", at: inputOffset + ip))
                    }
                    copyLiterals(base, at: op, from: src, ip, length: literal, sourceSlack: n - ip >= 16, bufferEnd: bufferEnd)
                    op += literal
                    ip += literal
                    continue
                case 1:
                    guard ip < n else { return .failure(.truncated(.snappy, "a copy element is cut off", at: inputOffset + ip)) }
                    copyLength = Int((tag >> 2) & 7) + 4
                    copyOffset = Int(tag >> 5) << 8 | Int(src.byte(ip))
                    ip += 1
                case 2:
                    guard n - ip >= 2 else { return .failure(.truncated(.snappy, "a copy element is cut off", at: inputOffset + ip)) }
                    copyLength = Int(tag >> 2) + 1
                    copyOffset = Int(src.le16(ip))
                    ip += 2
                default:
                    guard n - ip >= 4 else { return .failure(.truncated(.snappy, "a copy element is cut off", at: inputOffset + ip)) }
                    copyLength = Int(tag >> 2) + 1
                    copyOffset = Int(src.le32(ip))
                    ip += 4
                }
                guard copyOffset > 0 && copyOffset <= op - start else {
                    return .failure(.corrupt(.snappy, "copy offset \(copyOffset) points before the start of the data", at: inputOffset + ip))
                }
                guard copyLength <= opEnd - op else {
                    return .failure(.corrupt(.snappy, "a copy runs past the declared length \(length)", at: inputOffset + ip))
                }
                copyMatch(base, at: op, offset: copyOffset, length: copyLength, bufferEnd: bufferEnd)
                op += copyLength
            }
            return .success(op)
        }
        let op: Int
        switch result {
        case .success(let value): op = value
        case .failure(let error): throw error
        }
        guard op == opEnd else {
            throw .truncated(.snappy, "stream ended after \(op - start) of \(length) declared bytes", at: inputOffset + n)
        }
        out.end = op
    }
}
