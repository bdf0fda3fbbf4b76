import TributaryWire

/// Appends client frames to a caller-owned buffer. Inputs are assumed validated (see `NATSValidation`).
public enum NATSEncoder {
    @usableFromInline static let crlf: [UInt8] = [13, 10]

    /// Appends `PUB subject [reply] size\r\npayload\r\n`.
    ///
    /// The control line is assembled on the stack; a small frame (payload up to 512 bytes) is
    /// assembled whole there and appended with one copy, a larger one with the payload copied
    /// once after the line. No heap allocation happens unless `buffer` must grow.
    @inlinable
    public static func appendPublish(subject: String, replyTo: String?, payload: UnsafeRawBufferPointer, into buffer: inout [UInt8]) {
        var subject = subject
        subject.withUTF8 { subjectBytes in
            var reply = replyTo ?? ""
            reply.withUTF8 { replyBytes in
                let lineCapacity = 4 + subjectBytes.count + 1 + replyBytes.count + 1 + 20 + 2
                let whole = payload.count <= 512
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: lineCapacity + (whole ? payload.count + 2 : 0)) { frame in
                    let base = frame.baseAddress!
                    base[0] = 0x50; base[1] = 0x55; base[2] = 0x42; base[3] = 0x20  // "PUB "
                    var n = 4
                    n = copy(subjectBytes, to: base, at: n)
                    base[n] = 0x20; n += 1
                    if replyTo != nil {
                        n = copy(replyBytes, to: base, at: n)
                        base[n] = 0x20; n += 1
                    }
                    n = ASCII.writeDecimal(UInt64(payload.count), into: frame, at: n)
                    base[n] = 13; base[n + 1] = 10; n += 2
                    if whole {
                        if let source = payload.baseAddress, payload.count > 0 {
                            UnsafeMutableRawPointer(base + n).copyMemory(from: source, byteCount: payload.count)
                            n += payload.count
                        }
                        base[n] = 13; base[n + 1] = 10; n += 2
                        buffer.append(contentsOf: UnsafeBufferPointer(start: base, count: n))
                    } else {
                        buffer.append(contentsOf: UnsafeBufferPointer(start: base, count: n))
                        buffer.append(contentsOf: payload)
                        buffer.append(13)
                        buffer.append(10)
                    }
                }
            }
        }
    }

    /// Copies `bytes` to `base + index`; returns the index after them.
    @inlinable @inline(__always)
    static func copy(_ bytes: UnsafeBufferPointer<UInt8>, to base: UnsafeMutablePointer<UInt8>, at index: Int) -> Int {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return index }
        (base + index).update(from: source, count: bytes.count)
        return index + bytes.count
    }

    /// Appends `HPUB subject [reply] hdrsize totalsize\r\nheaders payload\r\n`.
    @inlinable
    public static func appendHeaderPublish(subject: String, replyTo: String?, headerBlock: [UInt8],
                                           payload: UnsafeRawBufferPointer, into buffer: inout [UInt8]) {
        appendHeaderPublishLine(subject: subject, replyTo: replyTo, headerBytes: headerBlock.count, payloadBytes: payload.count, into: &buffer)
        buffer.append(contentsOf: headerBlock)
        buffer.append(contentsOf: payload)
        buffer.append(13); buffer.append(10)
    }

    /// Appends `HPUB subject [reply] hdrsize totalsize\r\nheaders payload\r\n`, encoding `headers`
    /// in place (`headers.wireSize` bytes) instead of from a separate header block.
    public static func appendHeaderPublish(subject: String, replyTo: String?, headers: NATSHeaders,
                                           payload: UnsafeRawBufferPointer, into buffer: inout [UInt8]) {
        let headerBytes = headers.wireSize
        appendHeaderPublishLine(subject: subject, replyTo: replyTo, headerBytes: headerBytes, payloadBytes: payload.count, into: &buffer)
        let blockStart = buffer.count
        headers.encode(into: &buffer)
        assert(buffer.count - blockStart == headerBytes, "NATSHeaders.wireSize disagrees with encode(into:)")
        buffer.append(contentsOf: payload)
        buffer.append(13); buffer.append(10)
    }

    /// Appends the control line `HPUB subject [reply] hdrsize totalsize\r\n`.
    @inlinable
    static func appendHeaderPublishLine(subject: String, replyTo: String?, headerBytes: Int, payloadBytes: Int, into buffer: inout [UInt8]) {
        buffer.append(contentsOf: "HPUB ".utf8)
        buffer.append(contentsOf: subject.utf8)
        buffer.append(UInt8(ascii: " "))
        if let replyTo {
            buffer.append(contentsOf: replyTo.utf8)
            buffer.append(UInt8(ascii: " "))
        }
        ASCII.appendDecimal(UInt64(headerBytes), to: &buffer)
        buffer.append(UInt8(ascii: " "))
        ASCII.appendDecimal(UInt64(headerBytes + payloadBytes), to: &buffer)
        buffer.append(13); buffer.append(10)
    }

    /// Size in bytes of the frame `appendPublish`/`appendHeaderPublish` would write.
    @inlinable
    public static func publishFrameSize(subject: String, replyTo: String?, headerBytes: Int, payloadBytes: Int) -> Int {
        // op + spaces + digits (upper bound 20 each) + CRLFs
        subject.utf8.count + (replyTo?.utf8.count ?? 0) + headerBytes + payloadBytes + 5 + 2 + 2 + 2 + 40
    }

    /// Appends `SUB subject [queue] sid\r\n`.
    public static func appendSubscribe(subject: String, queue: String?, sid: UInt64, into buffer: inout [UInt8]) {
        buffer.append(contentsOf: "SUB ".utf8)
        buffer.append(contentsOf: subject.utf8)
        buffer.append(UInt8(ascii: " "))
        if let queue {
            buffer.append(contentsOf: queue.utf8)
            buffer.append(UInt8(ascii: " "))
        }
        ASCII.appendDecimal(sid, to: &buffer)
        buffer.append(contentsOf: crlf)
    }

    /// Appends `UNSUB sid [max]\r\n`.
    public static func appendUnsubscribe(sid: UInt64, max: Int?, into buffer: inout [UInt8]) {
        buffer.append(contentsOf: "UNSUB ".utf8)
        ASCII.appendDecimal(sid, to: &buffer)
        if let max {
            buffer.append(UInt8(ascii: " "))
            ASCII.appendDecimal(max, to: &buffer)
        }
        buffer.append(contentsOf: crlf)
    }

    /// Appends `PING\r\n`.
    public static func appendPing(into buffer: inout [UInt8]) {
        buffer.append(contentsOf: "PING\r\n".utf8)
    }

    /// Appends `PONG\r\n`.
    public static func appendPong(into buffer: inout [UInt8]) {
        buffer.append(contentsOf: "PONG\r\n".utf8)
    }
}
