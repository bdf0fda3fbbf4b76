import TributaryWire

/// NATS message headers (`NATS/1.0` block): an ordered multi-map plus an optional status line.
///
/// Names are case-sensitive, as nats-server and nats.go treat them; a name may carry several values.
public struct NATSHeaders: Sendable, Hashable, Sequence {
    /// Copy-on-write storage: one reference, so a message carrying headers stays small.
    ///
    /// `@unchecked Sendable`: an instance is mutated only while uniquely referenced
    /// (`makeUnique()`), so an instance shared between values or threads is never written.
    final class Storage: @unchecked Sendable {
        var entries: [(name: String, value: String)]
        var status: Int?
        var statusDescription: String?

        init(entries: [(name: String, value: String)] = [], status: Int? = nil, statusDescription: String? = nil) {
            self.entries = entries
            self.status = status
            self.statusDescription = statusDescription
        }
    }

    private var storage: Storage

    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) {
            storage = Storage(entries: storage.entries, status: storage.status, statusDescription: storage.statusDescription)
        }
    }

    /// The entries in wire order.
    public private(set) var entries: [(name: String, value: String)] {
        get { storage.entries }
        // In place: a mutation through `entries` (append, removeAll) must not copy the array.
        _modify {
            makeUnique()
            yield &storage.entries
        }
    }
    /// Status code from the version line (`NATS/1.0 503`), if any.
    public var status: Int? {
        get { storage.status }
        set { makeUnique(); storage.status = newValue }
    }
    /// Status description from the version line (`NATS/1.0 408 Request Timeout`), if any.
    public var statusDescription: String? {
        get { storage.statusDescription }
        set { makeUnique(); storage.statusDescription = newValue }
    }

    /// Creates empty headers.
    public init() {
        storage = Storage()
    }

    /// Creates headers from name/value pairs, keeping their order.
    public init(_ pairs: [(String, String)]) {
        storage = Storage(entries: pairs.map { (name: $0.0, value: $0.1) })
    }

    /// True when there are no entries and no status.
    /// The size of the encoded header block: version line, every `name: value` line, and the
    /// blank line that ends it.
    public var wireSize: Int {
        var size = 12
        if let status {
            size += 1 + Self.statusText(status).count
            if let statusDescription, !statusDescription.isEmpty { size += 1 + statusDescription.utf8.count }
        }
        for entry in entries { size += entry.name.utf8.count + entry.value.utf8.count + 4 }
        return size
    }

    public var isEmpty: Bool { entries.isEmpty && status == nil }

    /// The first value for `name`; setting replaces every value of `name` (nil removes it).
    public subscript(name: String) -> String? {
        get { entries.first { $0.name == name }?.value }
        set {
            entries.removeAll { $0.name == name }
            if let newValue { entries.append((name: name, value: newValue)) }
        }
    }

    /// Every value for `name`, in order.
    public func values(for name: String) -> [String] {
        entries.filter { $0.name == name }.map(\.value)
    }

    /// Makes room for `count` entries in all, so that appending them does not grow the storage again.
    public mutating func reserveCapacity(_ count: Int) {
        entries.reserveCapacity(count)
    }

    /// Adds a value for `name`, keeping existing values.
    public mutating func append(_ value: String, for name: String) {
        entries.append((name: name, value: value))
    }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> {
        entries.makeIterator()
    }

    public static func == (lhs: NATSHeaders, rhs: NATSHeaders) -> Bool {
        lhs.status == rhs.status && lhs.statusDescription == rhs.statusDescription
            && lhs.entries.elementsEqual(rhs.entries) { $0.name == $1.name && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(status)
        for entry in entries { hasher.combine(entry.name); hasher.combine(entry.value) }
    }

    /// The first problem with these headers for sending, or nil.
    ///
    /// Names must be non-empty and free of ':', whitespace and control characters; values must not contain CR or LF.
    public func problem() -> NATSNameProblem? {
        for entry in entries {
            if entry.name.isEmpty { return .invalidHeader("a header name is empty") }
            var name = entry.name
            let nameIsValid = name.withUTF8 { bytes in
                !bytes.contains { $0 <= 0x20 || $0 == UInt8(ascii: ":") || $0 == 0x7f }
            }
            if !nameIsValid {
                return .invalidHeader("header name '\(entry.name)' contains ':', whitespace or a control character")
            }
            var value = entry.value
            let valueIsValid = value.withUTF8 { bytes in
                !bytes.contains { $0 == 0x0D || $0 == 0x0A }
            }
            if !valueIsValid {
                return .invalidHeader("the value of header '\(entry.name)' contains CR or LF")
            }
        }
        return nil
    }

    /// Appends the wire form (`NATS/1.0[ status]\r\nName: Value\r\n…\r\n`) to `buffer`.
    public func encode(into buffer: inout [UInt8]) {
        buffer.append(contentsOf: "NATS/1.0".utf8)
        if let status {
            buffer.append(UInt8(ascii: " "))
            buffer.append(contentsOf: Self.statusText(status))
            if let statusDescription, !statusDescription.isEmpty {
                buffer.append(UInt8(ascii: " "))
                buffer.append(contentsOf: statusDescription.utf8)
            }
        }
        buffer.append(13); buffer.append(10)
        for entry in entries {
            buffer.append(contentsOf: entry.name.utf8)
            buffer.append(UInt8(ascii: ":")); buffer.append(UInt8(ascii: " "))
            buffer.append(contentsOf: entry.value.utf8)
            buffer.append(13); buffer.append(10)
        }
        buffer.append(13); buffer.append(10)
    }

    /// The wire form as bytes.
    public var encoded: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(wireSize)
        encode(into: &out)
        return out
    }

    /// The status as the version line carries it: three digits for 0...999 (`NATS/1.0 012` reads
    /// back as 12 and must be written the same way, since the parser accepts only 3-digit statuses).
    private static func statusText(_ status: Int) -> [UInt8] {
        var text: [UInt8] = []
        if (0..<100).contains(status) { text.append(contentsOf: status < 10 ? [48, 48] : [48]) }
        ASCII.appendDecimal(status, to: &text)
        return text
    }

    /// Parses a header block. `offset` is used in errors to locate the block in the stream.
    public static func parse(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) throws(NATSProtocolError) -> NATSHeaders {
        func fail(_ why: String) -> NATSProtocolError {
            NATSProtocolError(code: .badHeaders, message: why, offset: offset, excerpt: ASCII.hexExcerpt(bytes))
        }
        // One CRLF-terminated line at a time: the end of the line starting at `from` (at its CR).
        func lineEnd(from: Int) throws(NATSProtocolError) -> Int? {
            var index = from
            while index < bytes.count {
                if bytes[index] == 0x0A {
                    guard index > from, bytes[index - 1] == 0x0D else {
                        throw fail("expected CRLF line endings in the header block, found a bare LF")
                    }
                    return index - 1
                }
                index += 1
            }
            guard from == bytes.count else { throw fail("expected the header block to end with CRLF") }
            return nil
        }
        guard let firstEnd = try lineEnd(from: 0) else { throw fail("expected 'NATS/1.0' version line, found an empty header block") }
        let first = 0..<firstEnd
        let version: StaticString = "NATS/1.0"
        guard first.count >= version.utf8CodeUnitCount,
              (0..<version.utf8CodeUnitCount).allSatisfy({ bytes[$0] == version.utf8Start[$0] }) else {
            throw fail("expected header block to start with 'NATS/1.0'")
        }
        var headers = NATSHeaders()
        // Status line: "NATS/1.0 503" or "NATS/1.0 408 Request Timeout"
        var cursor = first.lowerBound + version.utf8CodeUnitCount
        while cursor < first.upperBound, bytes[cursor] == 0x20 || bytes[cursor] == 0x09 { cursor += 1 }
        if cursor < first.upperBound {
            var end = cursor
            while end < first.upperBound, bytes[end] != 0x20, bytes[end] != 0x09 { end += 1 }
            guard end - cursor == 3, let code = ASCII.parseDecimal(UnsafeRawBufferPointer(rebasing: bytes[cursor..<end]), limit: 999) else {
                throw fail("expected a 3-digit status after 'NATS/1.0'")
            }
            headers.status = code
            var descStart = end
            while descStart < first.upperBound, bytes[descStart] == 0x20 || bytes[descStart] == 0x09 { descStart += 1 }
            if descStart < first.upperBound {
                headers.statusDescription = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[descStart..<first.upperBound]), as: UTF8.self)
            }
        }
        var lineStart = firstEnd + 2
        while let end = try lineEnd(from: lineStart) {
            let line = lineStart..<end
            lineStart = end + 2
            if line.isEmpty { continue }
            guard let colon = bytes[line].firstIndex(of: UInt8(ascii: ":")) else {
                throw fail("expected 'Name: Value' in header line")
            }
            let name = trimmed(bytes, line.lowerBound..<colon)
            let value = trimmed(bytes, (colon + 1)..<line.upperBound)
            guard !name.isEmpty else { throw fail("expected a header name before ':'") }
            headers.entries.append((name: name, value: value))
        }
        return headers
    }

    private static func trimmed(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> String {
        var lower = range.lowerBound
        var upper = range.upperBound
        while lower < upper, bytes[lower] == 0x20 || bytes[lower] == 0x09 { lower += 1 }
        while upper > lower, bytes[upper - 1] == 0x20 || bytes[upper - 1] == 0x09 { upper -= 1 }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[lower..<upper]), as: UTF8.self)
    }
}
