import TributaryWire

/// Appends client frames to a caller-owned buffer. Inputs are assumed validated (see `NATSValidation`).
public enum NATSEncoder {
    @usableFromInline static let crlf: [UInt8] = [13, 10]

    /// Appends `PUB subject [reply] size\r\npayload\r\n`.
    @inlinable
    public static func appendPublish(subject: String, replyTo: String?, payload: UnsafeRawBufferPointer, into buffer: inout [UInt8]) {
        buffer.append(contentsOf: [UInt8(ascii: "P"), UInt8(ascii: "U"), UInt8(ascii: "B"), UInt8(ascii: " ")])
        buffer.append(contentsOf: subject.utf8)
        buffer.append(UInt8(ascii: " "))
        if let replyTo {
            buffer.append(contentsOf: replyTo.utf8)
            buffer.append(UInt8(ascii: " "))
        }
        ASCII.appendDecimal(UInt64(payload.count), to: &buffer)
        buffer.append(13); buffer.append(10)
        buffer.append(contentsOf: payload)
        buffer.append(13); buffer.append(10)
    }

    /// Appends `HPUB subject [reply] hdrsize totalsize\r\nheaders payload\r\n`.
    @inlinable
    public static func appendHeaderPublish(subject: String, replyTo: String?, headerBlock: [UInt8],
                                           payload: UnsafeRawBufferPointer, into buffer: inout [UInt8]) {
        buffer.append(contentsOf: "HPUB ".utf8)
        buffer.append(contentsOf: subject.utf8)
        buffer.append(UInt8(ascii: " "))
        if let replyTo {
            buffer.append(contentsOf: replyTo.utf8)
            buffer.append(UInt8(ascii: " "))
        }
        ASCII.appendDecimal(UInt64(headerBlock.count), to: &buffer)
        buffer.append(UInt8(ascii: " "))
        ASCII.appendDecimal(UInt64(headerBlock.count + payload.count), to: &buffer)
        buffer.append(13); buffer.append(10)
        buffer.append(contentsOf: headerBlock)
        buffer.append(contentsOf: payload)
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
