#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TributaryWire

/// Incremental, allocation-bounded parser of the server-to-client NATS protocol.
///
/// Feed bytes with `append(_:)` or read straight into `writableTail(minimum:)` + `commitWritten(_:)`,
/// then call `next()` until it returns nil. A frame is never consumed partially, so input may be
/// split at any byte. Every size field is checked against `maxPayload` before any allocation.
public struct NATSParser: Sendable {
    /// Longest control line accepted (CRLF excluded).
    public var maxControlLine: Int
    /// Largest MSG/HMSG total size accepted; set from INFO's `max_payload`.
    public var maxPayload: Int

    /// Raw byte storage, copy-on-write: mutated only while uniquely referenced.
    private var storage: ParserStorage
    private var readIndex = 0
    private var writeIndex = 0
    /// Bytes consumed before `readIndex`, for error offsets.
    private var consumedBase = 0
    /// The last long subject seen, reused while messages keep arriving on it.
    private let lastSubjectCache = SubjectCache()

    /// Creates a parser with the protocol's default limits.
    public init(maxControlLine: Int = NATSProtocolConstants.maxControlLineBytes,
                maxPayload: Int = NATSProtocolConstants.defaultMaxPayload,
                initialCapacity: Int = 64 * 1024) {
        self.maxControlLine = maxControlLine
        self.maxPayload = maxPayload
        storage = ParserStorage(capacity: max(initialCapacity, 256))
    }

    /// Bytes buffered but not yet parsed.
    public var bufferedCount: Int { writeIndex - readIndex }

    /// Appends received bytes.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        reserveTail(bytes.count)
        (storage.base + writeIndex).copyMemory(from: source, byteCount: bytes.count)
        writeIndex += bytes.count
    }

    /// Appends received bytes.
    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// Lets `body` write up to `minimum`+ bytes directly into the buffer; `body` returns how many it wrote.
    public mutating func readInto<E: Error>(minimum: Int, _ body: (UnsafeMutableRawBufferPointer) throws(E) -> Int) throws(E) -> Int {
        reserveTail(minimum)
        let tail = UnsafeMutableRawBufferPointer(start: storage.base + writeIndex, count: storage.capacity - writeIndex)
        let written = try body(tail)
        writeIndex += max(0, min(written, tail.count))
        return written
    }

    private mutating func reserveTail(_ count: Int) {
        if !isKnownUniquelyReferenced(&storage) {
            storage = storage.copy(live: readIndex..<writeIndex, capacity: max(storage.capacity, writeIndex - readIndex + count))
            consumedBase += readIndex
            writeIndex -= readIndex
            readIndex = 0
        }
        if readIndex == writeIndex {
            consumedBase += readIndex
            readIndex = 0
            writeIndex = 0
        }
        if storage.capacity - writeIndex >= count { return }
        // Compact first; grow only if the unparsed bytes plus the new ones do not fit.
        if readIndex > 0 {
            let live = writeIndex - readIndex
            memmoveBytes(storage.base, storage.base + readIndex, live)
            consumedBase += readIndex
            readIndex = 0
            writeIndex = live
        }
        if storage.capacity - writeIndex < count {
            var newSize = storage.capacity
            while newSize - writeIndex < count { newSize *= 2 }
            storage = storage.copy(live: 0..<writeIndex, capacity: newSize)
        }
    }

    /// Returns the next complete frame, nil when more bytes are needed, or throws on malformed input.
    public mutating func next() throws(NATSProtocolError) -> NATSServerOp? {
        guard readIndex < writeIndex else { return nil }
        let bytes = UnsafeRawBufferPointer(start: storage.base + readIndex, count: writeIndex - readIndex)
        let (op, consumed) = try parseFrame(bytes, streamOffset: consumedBase + readIndex)
        readIndex += consumed
        return op
    }

    private func parseFrame(_ bytes: UnsafeRawBufferPointer, streamOffset: Int) throws(NATSProtocolError) -> (NATSServerOp?, Int) {
        // Find LF within the control-line limit.
        let searchLimit = min(bytes.count, maxControlLine + 2)
        var lf = -1
        var index = 0
        while index < searchLimit {
            if bytes[index] == 0x0A { lf = index; break }
            index += 1
        }
        if lf < 0 {
            if bytes.count >= maxControlLine + 2 {
                throw NATSProtocolError(code: .controlLineTooLong,
                                        message: "expected a control line of at most \(maxControlLine) bytes ending in CRLF, none found",
                                        offset: streamOffset, excerpt: ASCII.hexExcerpt(bytes))
            }
            return (nil, 0)
        }
        guard lf > 0, bytes[lf - 1] == 0x0D else {
            throw NATSProtocolError(code: .missingCRLF, message: "expected CRLF at the end of the control line, found a bare LF",
                                    offset: streamOffset, excerpt: ASCII.hexExcerpt(UnsafeRawBufferPointer(rebasing: bytes[0...lf])))
        }
        let lineEnd = lf - 1
        let line = UnsafeRawBufferPointer(rebasing: bytes[0..<lineEnd])
        // Operation name: up to the first space/tab.
        var opEnd = 0
        while opEnd < line.count, line[opEnd] != 0x20, line[opEnd] != 0x09 { opEnd += 1 }
        let opName = UnsafeRawBufferPointer(rebasing: line[0..<opEnd])
        var argStart = opEnd
        while argStart < line.count, line[argStart] == 0x20 || line[argStart] == 0x09 { argStart += 1 }
        let args = UnsafeRawBufferPointer(rebasing: line[argStart...])

        switch Self.classify(opName) {
        case .msg:
            return try parseMsg(args: args, bytes: bytes, headerLength: false, afterLine: lf + 1, streamOffset: streamOffset)
        case .hmsg:
            return try parseMsg(args: args, bytes: bytes, headerLength: true, afterLine: lf + 1, streamOffset: streamOffset)
        case .ping:
            return (.ping, lf + 1)
        case .pong:
            return (.pong, lf + 1)
        case .ok:
            return (.ok, lf + 1)
        case .err:
            var text = String(decoding: args, as: UTF8.self)
            if text.hasPrefix("'") { text.removeFirst() }
            if text.hasSuffix("'") { text.removeLast() }
            return (.err(text), lf + 1)
        case .info:
            let info = try NATSServerInfo.decode(json: args, offset: streamOffset)
            return (.info(info), lf + 1)
        case .unknown:
            throw NATSProtocolError(code: .unknownOperation,
                                    message: "expected one of INFO, MSG, HMSG, PING, PONG, +OK, -ERR; found '\(String(decoding: opName.prefix(16), as: UTF8.self))'",
                                    offset: streamOffset, excerpt: ASCII.hexExcerpt(line))
        }
    }

    private enum OpKind { case msg, hmsg, ping, pong, ok, err, info, unknown }

    private static func classify(_ name: UnsafeRawBufferPointer) -> OpKind {
        // ASCII case-insensitive match of a short operation name.
        func matches(_ expected: StaticString) -> Bool {
            guard name.count == expected.utf8CodeUnitCount else { return false }
            let exp = UnsafeRawBufferPointer(start: expected.utf8Start, count: expected.utf8CodeUnitCount)
            for i in 0..<name.count {
                var byte = name[i]
                if byte >= 0x61, byte <= 0x7A { byte -= 0x20 }
                if byte != exp[i] { return false }
            }
            return true
        }
        switch name.count {
        case 3:
            if matches("MSG") { return .msg }
            if matches("+OK") { return .ok }
            return .unknown
        case 4:
            if matches("HMSG") { return .hmsg }
            if matches("PING") { return .ping }
            if matches("PONG") { return .pong }
            if matches("INFO") { return .info }
            if matches("-ERR") { return .err }
            return .unknown
        default:
            return .unknown
        }
    }

    /// Returns the previous message's subject `String` when the bytes are the same, so a stream
    /// on one subject does not allocate a new string per message.
    private func internedSubject(_ bytes: UnsafeRawBufferPointer) -> String {
        if let cached = lastSubjectCache.lookup(bytes) { return cached }
        let subject = String(decoding: bytes, as: UTF8.self)
        if bytes.count > 15 && bytes.count <= 256 {
            lastSubjectCache.update(bytes: bytes, subject: subject)
        }
        return subject
    }

    private func parseMsg(args: UnsafeRawBufferPointer, bytes: UnsafeRawBufferPointer, headerLength: Bool,
                          afterLine: Int, streamOffset: Int) throws(NATSProtocolError) -> (NATSServerOp?, Int) {
        // Split arguments on runs of spaces/tabs into at most 5 ranges, without allocating.
        var ranges: (Range<Int>, Range<Int>, Range<Int>, Range<Int>, Range<Int>) = (0..<0, 0..<0, 0..<0, 0..<0, 0..<0)
        var count = 0
        var cursor = 0
        let opName = headerLength ? "HMSG" : "MSG"
        func badArgs(_ why: String) -> NATSProtocolError {
            NATSProtocolError(code: .badArguments, message: "\(opName): \(why)", offset: streamOffset,
                              excerpt: ASCII.hexExcerpt(UnsafeRawBufferPointer(rebasing: bytes[0..<min(bytes.count, afterLine)])))
        }
        while cursor < args.count {
            while cursor < args.count, args[cursor] == 0x20 || args[cursor] == 0x09 { cursor += 1 }
            if cursor >= args.count { break }
            let start = cursor
            while cursor < args.count, args[cursor] != 0x20, args[cursor] != 0x09 { cursor += 1 }
            switch count {
            case 0: ranges.0 = start..<cursor
            case 1: ranges.1 = start..<cursor
            case 2: ranges.2 = start..<cursor
            case 3: ranges.3 = start..<cursor
            case 4: ranges.4 = start..<cursor
            default: throw badArgs("expected at most \(headerLength ? 5 : 4) arguments, found more")
            }
            count += 1
        }
        let minArgs = headerLength ? 4 : 3
        guard count == minArgs || count == minArgs + 1 else {
            throw badArgs("expected \(minArgs) or \(minArgs + 1) arguments (subject sid [reply] \(headerLength ? "header-size total-size" : "size")), found \(count)")
        }
        func slice(_ r: Range<Int>) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: args[r]) }
        let hasReply = count == minArgs + 1
        let sizeRanges: (Range<Int>, Range<Int>?)
        let replyRange: Range<Int>?
        switch (headerLength, hasReply) {
        case (false, false): sizeRanges = (ranges.2, nil); replyRange = nil
        case (false, true): sizeRanges = (ranges.3, nil); replyRange = ranges.2
        case (true, false): sizeRanges = (ranges.3, ranges.2); replyRange = nil
        case (true, true): sizeRanges = (ranges.4, ranges.3); replyRange = ranges.2
        }
        guard let sid = ASCII.parseDecimal(slice(ranges.1)) else {
            throw badArgs("expected a numeric subscription id, found '\(String(decoding: slice(ranges.1).prefix(24), as: UTF8.self))'")
        }
        guard let total = ASCII.parseDecimal(slice(sizeRanges.0), limit: Int(Int32.max)) else {
            throw badArgs("expected a numeric size, found '\(String(decoding: slice(sizeRanges.0).prefix(24), as: UTF8.self))'")
        }
        guard total <= maxPayload else {
            throw NATSProtocolError(code: .payloadTooLarge,
                                    message: "\(opName) announces \(total) bytes, more than the maximum payload of \(maxPayload)",
                                    offset: streamOffset, excerpt: ASCII.hexExcerpt(UnsafeRawBufferPointer(rebasing: bytes[0..<min(bytes.count, afterLine)])))
        }
        var headerSize = 0
        if let hr = sizeRanges.1 {
            guard let h = ASCII.parseDecimal(slice(hr), limit: Int(Int32.max)) else {
                throw badArgs("expected a numeric header size, found '\(String(decoding: slice(hr).prefix(24), as: UTF8.self))'")
            }
            guard h <= total else { throw badArgs("header size \(h) exceeds total size \(total)") }
            headerSize = h
        }
        let frameEnd = afterLine + total + 2
        guard bytes.count >= frameEnd else { return (nil, 0) }
        guard bytes[afterLine + total] == 0x0D, bytes[afterLine + total + 1] == 0x0A else {
            throw NATSProtocolError(code: .missingCRLF, message: "\(opName): expected CRLF after \(total) payload bytes",
                                    offset: streamOffset + afterLine + total,
                                    excerpt: ASCII.hexExcerpt(UnsafeRawBufferPointer(rebasing: bytes[(afterLine + total)..<frameEnd])))
        }
        let subject = internedSubject(slice(ranges.0))
        let reply = replyRange.map { String(decoding: slice($0), as: UTF8.self) }
        var headers: NATSHeaders?
        if headerLength {
            headers = try NATSHeaders.parse(UnsafeRawBufferPointer(rebasing: bytes[afterLine..<(afterLine + headerSize)]),
                                            offset: streamOffset + afterLine)
        }
        let payload = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[(afterLine + headerSize)..<(afterLine + total)]))
        return (.msg(NATSMessage(subject: subject, replyTo: reply, headers: headers, payload: payload, sid: UInt64(sid))), frameEnd)
    }
}

@inline(__always)
private func memmoveBytes(_ dst: UnsafeMutableRawPointer, _ src: UnsafeMutableRawPointer, _ count: Int) {
    // Regions overlap when compacting: memmove, not memcpy.
    _ = memmove(dst, src, count)
}

/// Remembers one subject string and its bytes.
///
/// `@unchecked Sendable`: a parser (and so its cache) is driven by one thread at a time — the
/// connection's I/O thread — and the cache only ever holds immutable values.
final class SubjectCache: @unchecked Sendable {
    private var bytes: [UInt8] = []
    private var subject = ""

    func lookup(_ candidate: UnsafeRawBufferPointer) -> String? {
        guard candidate.count == bytes.count, !bytes.isEmpty else { return nil }
        guard let other = candidate.baseAddress else { return nil }
        let same = bytes.withUnsafeBytes { own in own.baseAddress.map { memcmp($0, other, candidate.count) == 0 } ?? false }
        return same ? subject : nil
    }

    func update(bytes newBytes: UnsafeRawBufferPointer, subject newSubject: String) {
        bytes = Array(newBytes)
        subject = newSubject
    }
}

/// The parser's byte buffer.
///
/// `@unchecked Sendable`: `NATSParser` writes to it only while it is uniquely referenced
/// (`isKnownUniquelyReferenced`), copying it first otherwise, so a shared instance is never
/// mutated.
final class ParserStorage: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        base = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    }

    /// A new buffer of `capacity` bytes holding `live`'s bytes at its start.
    func copy(live: Range<Int>, capacity newCapacity: Int) -> ParserStorage {
        let fresh = ParserStorage(capacity: Swift.max(newCapacity, live.count))
        if !live.isEmpty { fresh.base.copyMemory(from: base + live.lowerBound, byteCount: live.count) }
        return fresh
    }

    deinit { base.deallocate() }
}
