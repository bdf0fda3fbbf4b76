/// The `none` codec: bytes pass through unchanged (still bounded by `limit`).
struct IdentityCodec: CompressionCodec {
    func compress(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(CompressionError) {
        output.append(contentsOf: input)
    }

    func decompress(_ input: UnsafeRawBufferPointer, into output: inout [UInt8], limit: Int) throws(CompressionError) {
        guard input.count <= limit else { throw .limitExceeded(.none, limit: limit) }
        output.append(contentsOf: input)
    }
}
