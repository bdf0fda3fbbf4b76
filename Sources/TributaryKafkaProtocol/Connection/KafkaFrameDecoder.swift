import TributaryWire

/// Splits a byte stream from a broker into response frames: a big-endian int32 size, then that
/// many bytes.
///
/// Incremental and pure: ``append(_:)`` bytes as they arrive, then call ``next()`` until it
/// returns nil. A frame is never consumed partially. The size is checked against
/// ``maxFrameSize`` before anything is allocated for it.
public struct KafkaFrameDecoder: Sendable {
    /// The default bound on a frame, 100 MiB (a fetch response may hold up to `fetch.max.bytes`,
    /// 50 MiB by default in the Java client, plus overhead).
    public static let defaultMaxFrameSize = 100 * 1024 * 1024

    /// The largest frame accepted; a larger size prefix is an error.
    public let maxFrameSize: Int
    private var buffer: [UInt8] = []
    private var start = 0

    /// Creates a decoder that accepts frames up to `maxFrameSize` bytes (without the prefix).
    public init(maxFrameSize: Int = KafkaFrameDecoder.defaultMaxFrameSize) {
        self.maxFrameSize = maxFrameSize
    }

    /// How many received bytes are not yet returned as frames.
    public var bufferedByteCount: Int { buffer.count - start }

    /// Appends received bytes.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        compactIfWorthwhile()
        buffer.append(contentsOf: bytes)
        // Make room for a large frame at once when an eighth of it has arrived: growing by
        // doubling copies it several times and can leave up to twice its size allocated. Waiting
        // for the eighth keeps what a peer can make us allocate within 8 times what it sent, not
        // whatever its size prefix claims (up to `maxFrameSize`; a larger one is `next()`'s error).
        let arrived = buffer.count - start
        guard arrived >= 4 else { return }
        let size = frameSize(at: start)
        if size >= Self.reserveThreshold, size <= maxFrameSize, start + 4 + size > buffer.capacity, arrived >= size / 8 {
            buffer.reserveCapacity(start + 4 + size)
        }
    }

    /// Frames at least this large get their whole size reserved once an eighth has arrived.
    static let reserveThreshold = 64 * 1024

    private func frameSize(at offset: Int) -> Int {
        Int(Int32(bitPattern: UInt32(buffer[offset]) << 24 | UInt32(buffer[offset + 1]) << 16 | UInt32(buffer[offset + 2]) << 8 | UInt32(buffer[offset + 3])))
    }

    /// Appends received bytes.
    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// Returns the next complete frame without its size prefix, or nil when more bytes are needed.
    ///
    /// - Throws: `WireDecodingError` when a size prefix is negative or above ``maxFrameSize``; the
    ///   stream cannot be resynchronised after that, so the connection must be closed.
    public mutating func next() throws(WireDecodingError) -> [UInt8]? {
        let available = buffer.count - start
        guard available >= 4 else { return nil }
        let size = frameSize(at: start)
        guard size >= 4 else {
            throw WireDecodingError(code: .invalidLength, expected: "a response frame size of at least 4 (the correlation id)", found: "size \(size)", offset: 0, excerpt: ASCII.hexExcerpt(buffer[start..<start + 4], maxBytes: 4))
        }
        guard size <= maxFrameSize else {
            throw WireDecodingError(code: .limitExceeded, expected: "a response frame of at most \(maxFrameSize) bytes", found: "size \(size)", offset: 0, excerpt: ASCII.hexExcerpt(buffer[start..<start + 4], maxBytes: 4))
        }
        guard available >= 4 + size else { return nil }
        if start == 0 && available == 4 + size && size >= Self.reserveThreshold {
            // The buffer holds exactly this large frame: hand it over without a second copy
            // (dropping the prefix moves the bytes within their own allocation).
            var frame = buffer
            buffer = []
            frame.removeFirst(4)
            return frame
        }
        let frame = Array(buffer[(start + 4)..<(start + 4 + size)])
        start += 4 + size
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 20)
            start = 0
        }
        return frame
    }

    private mutating func compactIfWorthwhile() {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
    }
}
