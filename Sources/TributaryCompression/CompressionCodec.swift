/// A compression algorithm that turns whole record-batch payloads into compressed bytes and back.
///
/// Implementations are stateless values: one instance may be used from many tasks at once.
/// Both methods append to `output` and leave what was already in it untouched.
public protocol CompressionCodec: Sendable {
    /// Appends the compressed form of `input` to `output`.
    ///
    /// - Throws: ``CompressionError`` only for input the format cannot represent (such as snappy
    ///   input over 4 GiB) or a failure of the system library; nothing is appended then.
    func compress(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(CompressionError)

    /// Appends the decompressed form of `input` to `output`; throws `.outputLimitExceeded` before
    /// producing more than `limit` bytes (never allocates from an unchecked length field).
    ///
    /// - Parameter limit: the most bytes this call may append; use the largest batch you accept.
    /// - Throws: ``CompressionError`` with `.corruptInput`, `.truncated`, `.unsupported` or
    ///   `.outputLimitExceeded`; `output` is then restored to its previous contents.
    func decompress(_ input: UnsafeRawBufferPointer, into output: inout [UInt8], limit: Int) throws(CompressionError)
}

extension CompressionCodec {
    /// Compresses `input` into a new array.
    public func compress(_ input: [UInt8]) throws(CompressionError) -> [UInt8] {
        var output: [UInt8] = []
        try input.withUnsafeBufferPointer { (buffer) throws(CompressionError) in
            try compress(UnsafeRawBufferPointer(buffer), into: &output)
        }
        return output
    }

    /// Decompresses `input` into a new array of at most `limit` bytes.
    public func decompress(_ input: [UInt8], limit: Int) throws(CompressionError) -> [UInt8] {
        var output: [UInt8] = []
        try input.withUnsafeBufferPointer { (buffer) throws(CompressionError) in
            try decompress(UnsafeRawBufferPointer(buffer), into: &output, limit: limit)
        }
        return output
    }
}
