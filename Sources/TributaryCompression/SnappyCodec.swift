/// Snappy (Kafka codec 2), implemented in Swift.
///
/// Kafka clients disagree on framing: the Java producer writes snappy-java's stream format
/// ("xerial" framing: the `\u{82}SNAPPY\0` magic, two big-endian version numbers, then
/// big-endian length-prefixed raw snappy blocks), while librdkafka writes one raw snappy block.
/// Every Kafka client reads both. `compress` writes raw snappy by default (it is smaller and
/// what librdkafka produces); choose ``Framing/xerial`` to match the Java producer byte for byte.
/// `decompress` detects the framing itself: a raw stream can never start with the xerial magic,
/// because its first element would be a copy from before the start of the data.
public struct SnappyCodec: CompressionCodec {
    /// How `compress` frames its output.
    public enum Framing: Sendable, Hashable {
        /// One raw snappy block, as librdkafka writes.
        case raw
        /// snappy-java's stream format with 32 KiB blocks, as Kafka's Java producer writes.
        case xerial
    }

    /// The framing `compress` writes; decompression accepts both regardless.
    public let framing: Framing

    /// Creates a snappy codec; `framing` defaults to ``Framing/raw``.
    public init(framing: Framing = .raw) {
        self.framing = framing
    }

    static let xerialMagic: [UInt8] = [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00]
    /// Magic, version and minimum compatible version (both 1, like snappy-java writes).
    static let xerialHeaderSize = 16
    /// snappy-java's default block size.
    static let xerialBlockSize = 32 * 1024

    /// Appends the snappy form of `input`.
    ///
    /// - Throws: ``CompressionError`` with `.unsupported` for input over 4 GiB, which snappy cannot describe.
    public func compress(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(CompressionError) {
        guard input.count <= Int(UInt32.max) else {
            throw .unsupported(.snappy, "input of \(input.count) bytes is larger than snappy's 4 GiB limit")
        }
        withUnsafeTemporaryAllocation(of: UInt16.self, capacity: 1 << 14) { table in
            guard let table = table.baseAddress else { return }
            switch framing {
            case .raw:
                let start = appendZeroed(&output, SnappyRaw.maxCompressedLength(input.count))
                let written = withOutputBase(&output) { outputBase, _ in
                    SnappyRaw.compress(input.baseAddress, count: input.count, into: outputBase + start, table: table)
                }
                output.removeLast(output.count - (start + written))
            case .xerial:
                let blocks = (input.count + Self.xerialBlockSize - 1) / Self.xerialBlockSize
                let bound = Self.xerialHeaderSize + blocks * (4 + SnappyRaw.maxCompressedLength(Self.xerialBlockSize))
                let start = appendZeroed(&output, bound)
                let written = withOutputBase(&output) { outputBase, _ in
                    let dest = outputBase + start
                    for (index, byte) in Self.xerialMagic.enumerated() { dest.setByte(byte, at: index) }
                    dest.setBE32(1, at: 8)
                    dest.setBE32(1, at: 12)
                    var op = Self.xerialHeaderSize
                    var consumed = 0
                    while consumed < input.count, let source = input.baseAddress {
                        let chunk = min(Self.xerialBlockSize, input.count - consumed)
                        let size = SnappyRaw.compress(source + consumed, count: chunk, into: dest + op + 4, table: table)
                        dest.setBE32(UInt32(size), at: op)
                        op += 4 + size
                        consumed += chunk
                    }
                    return op
                }
                output.removeLast(output.count - (start + written))
            }
        }
    }

    /// Appends the decompressed form of raw or xerial-framed snappy `input`, at most `limit` bytes.
    public func decompress(_ input: UnsafeRawBufferPointer, into output: inout [UInt8], limit: Int) throws(CompressionError) {
        var out = BoundedOutput(count: output.count, limit: limit)
        do throws(CompressionError) {
            if Self.isXerial(input) {
                try Self.decompressXerial(input, output: &output, out: &out)
            } else {
                try SnappyRaw.decompress(input, inputOffset: 0, output: &output, out: &out)
            }
        } catch {
            out.abandon(&output)
            throw error
        }
        out.finish(&output)
    }

    static func isXerial(_ input: UnsafeRawBufferPointer) -> Bool {
        guard input.count >= xerialMagic.count else { return false }
        for (index, byte) in xerialMagic.enumerated() where input[index] != byte { return false }
        return true
    }

    private static func decompressXerial(
        _ input: UnsafeRawBufferPointer, output: inout [UInt8], out: inout BoundedOutput
    ) throws(CompressionError) {
        guard input.count >= xerialHeaderSize, let base = input.baseAddress else {
            throw .truncated(.snappy, "the xerial header is cut off", at: input.count)
        }
        // The version and compatible-version fields are not checked: snappy-java has only ever
        // written 1, and the block layout has never changed.
        var ip = xerialHeaderSize
        while ip < input.count {
            guard input.count - ip >= 4 else { throw .truncated(.snappy, "a xerial block length is cut off", at: ip) }
            let size = Int(base.be32(ip))
            ip += 4
            guard size <= input.count - ip else {
                throw .truncated(.snappy, "a xerial block of \(size) bytes runs past the end of the input", at: ip)
            }
            try SnappyRaw.decompress(UnsafeRawBufferPointer(start: base + ip, count: size), inputOffset: ip, output: &output, out: &out)
            ip += size
        }
    }
}
