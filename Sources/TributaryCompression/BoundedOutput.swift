/// Tracks bytes a decoder appends to a caller's array without ever growing it past a limit.
///
/// Decoders write through raw pointers into zero-filled space that `reserve` appends, so the
/// hot loops never append byte by byte. `end` is the absolute index just past the last decoded
/// byte; the array may be longer (spare room), and `finish` trims it back to `end`.
struct BoundedOutput {
    /// `output.count` when decoding started.
    let start: Int
    /// The array may never grow past this index (`start + limit`).
    let limitEnd: Int
    /// The caller's limit, for error messages.
    let limit: Int
    /// Index just past the last decoded byte.
    var end: Int

    init(count: Int, limit: Int) {
        start = count
        self.limit = max(0, limit)
        let (sum, overflow) = count.addingReportingOverflow(self.limit)
        limitEnd = overflow ? Int.max : sum
        end = count
    }

    /// Bytes that may still be produced before the limit.
    var remainingLimit: Int { limitEnd - end }

    /// Grows `output` (zero-filled, at most to `limitEnd`) so that `min(wanted, remainingLimit)`
    /// bytes fit after `end`, growing geometrically so repeated calls stay linear.
    /// Returns the index up to which `output` may now be written.
    @discardableResult
    mutating func reserve(_ output: inout [UInt8], _ wanted: Int) -> Int {
        let target = end + min(max(wanted, 0), remainingLimit)
        if output.count < target {
            let decoded = output.count - start
            let doubled = decoded > (limitEnd - start) / 2 ? limitEnd : start + 2 * decoded
            let newCount = min(limitEnd, max(target, doubled))
            output.reserveCapacity(newCount)
            output.append(contentsOf: repeatElement(0, count: newCount - output.count))
        }
        return output.count
    }

    /// Trims spare room so `output` ends at the last decoded byte.
    func finish(_ output: inout [UInt8]) {
        if output.count > end { output.removeLast(output.count - end) }
    }

    /// Drops everything this decode appended.
    func abandon(_ output: inout [UInt8]) {
        if output.count > start { output.removeLast(output.count - start) }
    }
}

/// Appends `count` zero bytes for an encoder to fill through pointers, then returns the old count.
@inline(__always)
func appendZeroed(_ output: inout [UInt8], _ count: Int) -> Int {
    let start = output.count
    output.reserveCapacity(start + count)
    output.append(contentsOf: repeatElement(0, count: count))
    return start
}

/// Runs `body` with a pointer to `output`'s storage and its count. An empty array (possible
/// when the limit is 0) gets a pointer to a scratch word and a count of 0, so decoders can run
/// their bounds checks without a special case.
@inline(__always)
func withOutputBase<R, E: Error>(
    _ output: inout [UInt8], _ body: (UnsafeMutableRawPointer, Int) throws(E) -> R
) throws(E) -> R {
    try output.withUnsafeMutableBufferPointer { (buffer) throws(E) -> R in
        if let base = buffer.baseAddress { return try body(UnsafeMutableRawPointer(base), buffer.count) }
        return try withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 1) { (scratch) throws(E) -> R in
            try body(UnsafeMutableRawPointer(scratch.baseAddress.unsafelyUnwrapped), 0)
        }
    }
}
