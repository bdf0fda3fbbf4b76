import CZlib

/// gzip (Kafka codec 1) through the system zlib.
///
/// `compress` writes one gzip member (RFC 1952, deflate with a 32 KiB window). `decompress`
/// reads gzip members, including several concatenated ones, into at most `limit` bytes; it
/// rejects zlib- or raw-deflate streams and trailing bytes that are not another member.
public struct GzipCodec: CompressionCodec {
    /// The default deflate level, 6: what Java's `GZIPOutputStream` and Kafka's default
    /// `compression.gzip.level` use.
    public static let defaultLevel = 6

    /// The deflate level, clamped to 1 (fastest) ... 9 (smallest).
    public let level: Int

    /// Creates a gzip codec; `level` defaults to ``defaultLevel`` and is clamped to 1...9.
    public init(level: Int = GzipCodec.defaultLevel) {
        self.level = min(max(level, 1), 9)
    }

    // windowBits 15 + 16 selects the gzip wrapper in zlib's deflateInit2/inflateInit2.
    private static let gzipWindowBits: Int32 = 15 + 16
    // zlib counts in 32-bit `uInt`; larger buffers are fed in slices of this size.
    private static let maxSlice = Int(UInt32.max)

    /// Appends one gzip member holding `input`.
    ///
    /// - Throws: ``CompressionError`` with `.libraryFailure` if zlib cannot start (out of memory).
    public func compress(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(CompressionError) {
        var stream = z_stream()
        let status = tributary_deflateInit2(&stream, Int32(level), Self.gzipWindowBits)
        guard status == Z_OK else { throw Self.libraryError(status, &stream, "deflateInit2") }
        defer { deflateEnd(&stream) }

        let bound = Int(deflateBound(&stream, uLong(input.count)))
        let start = appendZeroed(&output, bound)
        var produced = 0
        let result: CompressionError? = output.withUnsafeMutableBufferPointer { buffer in
            var consumed = 0
            guard let out = buffer.baseAddress else { return Self.libraryError(Z_BUF_ERROR, &stream, "deflate") }
            stream.next_out = out + start
            while true {
                let slice = min(input.count - consumed, Self.maxSlice)
                let last = consumed + slice == input.count
                stream.next_in = input.baseAddress.map { UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: Bytef.self)) + consumed }
                stream.avail_in = uInt(slice)
                let room = buffer.count - start - produced
                stream.avail_out = uInt(min(room, Self.maxSlice))
                let before = (Int(stream.avail_in), Int(stream.avail_out))
                let status = deflate(&stream, last ? Z_FINISH : Z_NO_FLUSH)
                consumed += before.0 - Int(stream.avail_in)
                produced += before.1 - Int(stream.avail_out)
                if status == Z_STREAM_END { return nil }
                guard status == Z_OK || status == Z_BUF_ERROR else {
                    return Self.libraryError(status, &stream, "deflate")
                }
                if before.0 == Int(stream.avail_in) && before.1 == Int(stream.avail_out) {
                    // No progress although deflateBound promised room: zlib misbehaved.
                    return Self.libraryError(status, &stream, "deflate")
                }
            }
        }
        if let result {
            output.removeLast(output.count - start)
            throw result
        }
        output.removeLast(output.count - (start + produced))
    }

    /// Appends the contents of the gzip member(s) in `input`, at most `limit` bytes.
    public func decompress(_ input: UnsafeRawBufferPointer, into output: inout [UInt8], limit: Int) throws(CompressionError) {
        guard input.count >= 18, let inputBase = input.baseAddress else {
            // The smallest gzip member (10-byte header, empty deflate block, 8-byte trailer) is 20 bytes;
            // anything under the 18-byte header+trailer cannot be gzip.
            throw .truncated(.gzip, "input of \(input.count) bytes is shorter than a gzip header and trailer", at: input.count)
        }
        var stream = z_stream()
        let status = tributary_inflateInit2(&stream, Self.gzipWindowBits)
        guard status == Z_OK else { throw Self.libraryError(status, &stream, "inflateInit2") }
        defer { inflateEnd(&stream) }

        var out = BoundedOutput(count: output.count, limit: limit)
        // Start with a guess from the input size, then grow geometrically (bounded by the limit).
        out.reserve(&output, max(4 * input.count, 4096))
        let inBytes = UnsafeMutablePointer(mutating: inputBase.assumingMemoryBound(to: Bytef.self))
        var consumed = 0
        var memberEnded = false
        while true {
            if memberEnded {
                if consumed == input.count { break }
                // Another member follows (RFC 1952 §2.2 allows concatenation).
                inflateReset(&stream)
                memberEnded = false
            }
            var room = output.count - out.end
            if room == 0 {
                if out.remainingLimit == 0 {
                    // At the limit: one probe byte tells "ends exactly here" from "more would follow".
                    var probe: UInt8 = 0
                    let (status, used, made) = Self.inflateStep(&stream, inBytes + consumed, input.count - consumed, &probe, 1)
                    consumed += used
                    if made > 0 { out.abandon(&output); throw .limitExceeded(.gzip, limit: limit, at: consumed) }
                    switch Self.classify(status, &stream, consumed: consumed, inputCount: input.count, outputFull: false) {
                    case .memberEnd: memberEnded = true; continue
                    case .more: continue
                    case .failed(let error): out.abandon(&output); throw error
                    }
                }
                room = out.reserve(&output, out.end - out.start + 65536) - out.end
            }
            let writeAt = out.end
            let (status, used, made) = withOutputBase(&output) { outputBase, _ in
                Self.inflateStep(
                    &stream, inBytes + consumed, input.count - consumed,
                    (outputBase + writeAt).assumingMemoryBound(to: UInt8.self), room)
            }
            consumed += used
            out.end += made
            switch Self.classify(status, &stream, consumed: consumed, inputCount: input.count, outputFull: made == min(room, Self.maxSlice)) {
            case .memberEnd: memberEnded = true
            case .more: break
            case .failed(let error): out.abandon(&output); throw error
            }
        }
        out.finish(&output)
    }

    private enum StepOutcome {
        case memberEnd, more
        case failed(CompressionError)
    }

    private static func inflateStep(
        _ stream: inout z_stream, _ input: UnsafeMutablePointer<Bytef>, _ inputCount: Int,
        _ output: UnsafeMutablePointer<UInt8>, _ outputCount: Int
    ) -> (Int32, Int, Int) {
        let inSlice = min(inputCount, maxSlice)
        let outSlice = min(outputCount, maxSlice)
        stream.next_in = input
        stream.avail_in = uInt(inSlice)
        stream.next_out = output
        stream.avail_out = uInt(outSlice)
        let status = inflate(&stream, Z_NO_FLUSH)
        return (status, inSlice - Int(stream.avail_in), outSlice - Int(stream.avail_out))
    }

    private static func classify(
        _ status: Int32, _ stream: inout z_stream, consumed: Int, inputCount: Int, outputFull: Bool
    ) -> StepOutcome {
        switch status {
        case Z_STREAM_END:
            return .memberEnd
        case Z_OK, Z_BUF_ERROR:
            if outputFull { return .more }
            if consumed == inputCount {
                return .failed(.truncated(.gzip, "input ended inside a gzip member", at: consumed))
            }
            if status == Z_OK { return .more }
            return .failed(.corrupt(.gzip, "zlib made no progress", at: consumed))
        case Z_NEED_DICT:
            return .failed(.unsupported(.gzip, "the deflate stream needs a preset dictionary", at: consumed))
        case Z_DATA_ERROR:
            let detail = stream.msg.map { String(cString: $0) } ?? "invalid deflate data"
            return .failed(.corrupt(.gzip, "zlib: \(detail)", at: consumed))
        default:
            return .failed(libraryError(status, &stream, "inflate"))
        }
    }

    private static func libraryError(_ status: Int32, _ stream: inout z_stream, _ call: String) -> CompressionError {
        let detail = stream.msg.map { String(cString: $0) } ?? "status \(status)"
        return CompressionError(
            code: .libraryFailure,
            message: "zlib \(call) failed (\(detail)); the process may be out of memory or zlib is broken: retry, and check memory limits",
            codec: .gzip)
    }
}
